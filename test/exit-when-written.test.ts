// exitWhenWritten (src/cli/main.ts): the process ends at once when everything written has been
// written, and is left to end by itself while a write is still under way (a slow reader).
import { afterEach, describe, expect, it, vi } from 'vitest';
import { exitWhenWritten } from '../src/cli/main.js';

const stream = (writableLength: number) => ({ writableLength }) as unknown as NodeJS.WriteStream;
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));

describe('exitWhenWritten', () => {
  const exitCode = process.exitCode;
  afterEach(() => { vi.restoreAllMocks(); process.exitCode = exitCode; });

  it('exits with the status in the next turn of the event loop when stdout and stderr hold nothing unwritten', async () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    exitWhenWritten(1, stream(0), stream(0));
    expect(process.exitCode).toBe(1);
    expect(exit).not.toHaveBeenCalled();
    await nextTurn();
    expect(exit).toHaveBeenCalledWith(1);
  });

  it('only sets the exit status while stdout or stderr still has bytes to write', async () => {
    const exit = vi.spyOn(process, 'exit').mockImplementation((() => undefined) as never);
    exitWhenWritten(1, stream(70_000), stream(0));
    exitWhenWritten(0, stream(0), stream(12));
    await nextTurn();
    expect(exit).not.toHaveBeenCalled();
    expect(process.exitCode).toBe(0);
  });
});
