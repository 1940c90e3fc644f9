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

/** n, or [h, w], each at least `min`: a kernel, a window, a stride or a padding. */
const pair = (min: number) => ({
  oneOf: [
    { type: 'integer', minimum: min },
    { type: 'array', minItems: 2, maxItems: 2, items: { type: 'integer', minimum: min } },
  ],
});

const eps = { type: 'number', exclusiveMinimum: 0 };

/** The fields of each layer type (SPEC, "Beyond dense layers"), and which are required. */
const LAYER_FIELDS = {
  dense: { required: ['units', 'activation'], properties: { units: { type: 'integer', minimum: 1 }, activation: activationSchema, bias: { type: 'boolean' } } },
  conv2d: {
    required: ['filters', 'kernel'],
    properties: { filters: { type: 'integer', minimum: 1 }, kernel: pair(1), stride: pair(1), padding: pair(0), activation: activationSchema, bias: { type: 'boolean' } },
  },
  maxpool2d: { required: ['size'], properties: { size: pair(1), stride: pair(1) } },
  avgpool2d: { required: ['size'], properties: { size: pair(1), stride: pair(1) } },
  flatten: { required: [], properties: {} },
  batchnorm: { required: [], properties: { eps } },
  layernorm: { required: [], properties: { eps } },
  // keep is the probability of keeping a unit: 0 would keep none (and divide by 0).
  dropout: { required: ['keep'], properties: { keep: { type: 'number', exclusiveMinimum: 0, maximum: 1 }, seed: { type: 'integer', minimum: 0, maximum: 4294967295 } } },
  activation: { required: ['activation'], properties: { activation: activationSchema } },
} as const;

export const LAYER_TYPES = Object.keys(LAYER_FIELDS) as (keyof typeof LAYER_FIELDS)[];

/** if the entry is of this type (dense: its type is absent or "dense"), then it has this type's fields and no others. */
function typeBranch(type: keyof typeof LAYER_FIELDS) {
  const fields = LAYER_FIELDS[type];
  return {
    if: type === 'dense' ? { properties: { type: { const: 'dense' } } } : { required: ['type'], properties: { type: { const: type } } },
    then: { required: fields.required, additionalProperties: false, properties: { ...fields.properties, type: { const: type } } },
  };
}

export const SCHEMA = {
  type: 'object',
  required: ['layers', 'loss'],
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    description: { type: 'string' },
    input: {
      oneOf: [
        { type: 'integer', minimum: 1 },
        // [C, H, W]: an image of C channels of H × W.
        { type: 'array', minItems: 3, maxItems: 3, items: { type: 'integer', minimum: 1 } },
      ],
    },
    layers: {
      type: 'array',
      minItems: 1,
      // Each entry is validated by the schema of its type (dense when it has none): the type's
      // branch is the only one whose `if` holds, so its errors are the only ones reported.
      items: { type: 'object', properties: { type: { enum: LAYER_TYPES } }, allOf: LAYER_TYPES.map(typeBranch) },
    },
    loss: {
      oneOf: [
        ...formulaOrName(LOSS_NAMES).oneOf,
        // PyTorch's MSELoss(): the mean over the outputs too (losses.ts).
        {
          type: 'object',
          required: ['name', 'average'],
          properties: { name: { enum: ['mean_squared_error'] }, average: { enum: ['outputs'] } },
          additionalProperties: false,
        },
      ],
    },
    reduction: { enum: ['mean', 'sum'] },
    // How --params, --grads, --exec and --data store tensors (io/tensors.ts's Layout).
    layout: { enum: ['columns', 'rows'] },
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
