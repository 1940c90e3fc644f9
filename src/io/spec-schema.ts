// The JSON Schema of net.json (docs/formats.md, "net.json"). spec.ts validates with the code that
// scripts/make-spec-validator.mjs generates from it, and reads it to word its error messages.
import { ACTIVATION_NAMES } from '../core/records/activations.js';
import { LOSS_NAMES } from '../core/records/losses.js';

const formulaOrName = (names: string[]) => ({
  oneOf: [
    { type: 'string', enum: names },
    {
      type: 'object',
      required: ['expr'],
      properties: { expr: { type: 'string', minLength: 1 } },
      additionalProperties: false,
    },
  ],
});

const activationSchema = {
  oneOf: [
    { type: 'string', enum: ACTIVATION_NAMES },
    {
      type: 'object',
      required: ['name'],
      properties: { name: { enum: ['leaky_relu', 'elu'] }, alpha: { type: 'number' } },
      additionalProperties: false,
    },
    {
      type: 'object',
      required: ['expr'],
      properties: { expr: { type: 'string', minLength: 1 } },
      additionalProperties: false,
    },
  ],
};

export const SCHEMA = {
  type: 'object',
  required: ['layers', 'loss'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    description: { type: 'string' },
    input: { type: 'integer', minimum: 1 },
    layers: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        required: ['units', 'activation'],
        additionalProperties: false,
        properties: {
          units: { type: 'integer', minimum: 1 },
          activation: activationSchema,
          bias: { type: 'boolean' },
        },
      },
    },
    loss: formulaOrName(LOSS_NAMES),
    reduction: { enum: ['mean', 'sum'] },
    l2: {
      oneOf: [
        { type: 'number', minimum: 0 },
        {
          type: 'object',
          required: ['coefficient'],
          properties: { coefficient: { type: 'number', minimum: 0 } },
          additionalProperties: false,
        },
      ],
    },
    bias: { type: 'boolean' },
    init: {
      type: 'object',
      additionalProperties: false,
      properties: {
        scheme: { enum: ['normal', 'uniform', 'xavier', 'he'] },
        scale: { type: 'number', exclusiveMinimum: 0 },
        // The generator takes 32 bits (seed >>> 0): a larger seed would silently be another one.
        seed: { type: 'integer', minimum: 0, maximum: 4294967295 },
      },
    },
    backward: {
      type: 'object',
      additionalProperties: false,
      properties: {
        outputGradient: { type: 'string' },
        outputDelta: { type: 'string' },
        activationDerivatives: { type: 'array', items: { type: ['string', 'null'] } },
        reduction: { enum: ['mean', 'sum'] },
        l2: { type: 'boolean' },
      },
    },
  },
} as const;
