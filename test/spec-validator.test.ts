// The committed validator (src/io/spec-validator.generated.ts) is ajv's standalone code for the
// schema in src/io/spec-schema.ts: regenerating it must give the same file, byte for byte.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SCHEMA } from '../src/io/spec-schema.js';
import { validateSpec } from '../src/io/spec-validator.generated.js';
// @ts-expect-error: a plain .mjs script without declarations
import { TARGET, validatorSource } from '../scripts/make-spec-validator.mjs';

describe('the generated net.json validator', () => {
  it('is up to date with the schema (npm run build && node scripts/make-spec-validator.mjs regenerates it)', () => {
    expect(readFileSync(TARGET as string, 'utf8')).toBe((validatorSource as (s: unknown) => string)(SCHEMA));
  });

  it('accepts a spec and reports every error of a wrong one', () => {
    expect(validateSpec({ layers: [{ units: 1, activation: 'sigmoid' }], loss: 'binary_cross_entropy' })).toBe(true);
    expect(validateSpec({ layers: [{ units: 0, activation: 'sigmoid', extra: 1 }], loss: { expr: '' } })).toBe(false);
    const keywords = validateSpec.errors!.map((e) => `${e.instancePath} ${e.keyword}`);
    expect(keywords).toEqual(expect.arrayContaining(['/layers/0 additionalProperties', '/layers/0/units minimum', '/loss/expr minLength']));
  });
});
