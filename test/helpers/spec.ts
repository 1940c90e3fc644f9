// net.json as the tests parse it: parseSpec on an object, and the message of a spec it refuses.
import { expect } from 'vitest';
import { UserError } from '../../src/io/errors.js';
import { parseSpec } from '../../src/io/spec.js';

export const parse = (spec: unknown) => parseSpec(spec, 'net.json');

/** The UserError message parseSpec gives for `spec`, or a failure if it was accepted. */
export function message(spec: unknown): string {
  try {
    parse(spec);
  } catch (err) {
    expect(err).toBeInstanceOf(UserError);
    return (err as Error).message;
  }
  throw new Error('the spec was accepted');
}
