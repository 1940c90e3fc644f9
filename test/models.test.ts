// The example programs of fixtures/models, run for real: `backprop-check --model "<program>"` on a
// NumPy CNN, a NumPy RNN, an MLP with batch norm and dropout, a PyTorch model with a custom
// autograd.Function (float64, and float32 as PyTorch's default) and a JavaScript program speaking the
// protocol itself. Each buggy program fails in exactly the tensors its bug touches (verify.py shows
// which, independently of backprop-check, against central differences and torch.autograd); each fixed
// one passes. These need a python3 with NumPy and PyTorch (.ci/run installs python3-numpy and
// python3-torch): without them the tests fail, they do not skip.
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Report } from '../src/core/report.js';
import { pythonWith } from './helpers/python.js';
import { root, runCliSync } from './helpers/cli.js';

/** The finding a cost that changes between identical calls gets (SPEC.md, "Your code is the model", 5). */
const NONDETERMINISTIC_COST = 'nondeterministic-cost';
/** The info finding that says a program was judged in float32. */
const FLOAT32_PROGRAM = 'float32-program';

const models = 'fixtures/models';
let python = '';

/** One shell word: the command is run through the shell. */
const quote = (word: string) => `'${word.replaceAll("'", `'\\''`)}'`;

/** `backprop-check --model "<program> <args>" --format json`: the exit status and the parsed report. */
function check(program: string, args: string[] = []): { status: number | null; report: Report; stderr: string } {
  const command = [program, ...args].join(' ');
  const r = runCliSync(['--model', command, '--format', 'json'], { timeout: 300_000 });
  if (r.status !== 0 && r.status !== 1) throw new Error(`backprop-check --model "${command}" exited ${r.status}:\n${r.stderr}`);
  return { status: r.status, report: JSON.parse(r.stdout) as Report, stderr: r.stderr };
}

const pythonProgram = (file: string) => `${quote(python)} ${models}/${file}`;
const failing = (report: Report) => report.checks.filter((c) => c.status === 'fail').map((c) => c.param).sort();
const codes = (report: Report) => report.findings.map((f) => f.code);

beforeAll(() => { python = pythonWith('numpy, torch', 'The model examples'); });

describe('verify.py: each example\'s bug and fix, without backprop-check', () => {
  it('the fixed backward agrees with central differences and torch.autograd, the buggy one differs in exactly its bugged tensors', () => {
    const r = spawnSync(python, [`${models}/verify.py`], { cwd: root, encoding: 'utf8', timeout: 300_000 });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim().split('\n').filter((line) => !line.startsWith('ok   '))).toEqual(['all agree']);
    expect(r.status).toBe(0);
  });
});

// Which tensors each bug touches; the names are the programs' own, in their hello order.
const cases = [
  { name: 'NumPy CNN (max-pool backward routes to the swapped element)', file: 'cnn.py', tensors: ['conv_W', 'conv_b', 'fc_W', 'fc_b'], bugged: ['conv_W', 'conv_b'] },
  { name: 'NumPy RNN (BPTT without the recurrent term)', file: 'rnn.py', tensors: ['Wxh', 'Whh', 'bh', 'Why', 'by'], bugged: ['Whh', 'Wxh', 'bh'] },
  { name: 'MLP with batch norm and a fixed dropout mask (batch-norm backward without the mean and variance terms)', file: 'mlp_bn_dropout.py', tensors: ['W1', 'gamma', 'beta', 'W2', 'b2'], bugged: ['W1'] },
  { name: 'PyTorch float64, custom autograd.Function (softplus\' from the saved output)', file: 'torch_softplus.py', tensors: ['W1', 'b1', 'W2', 'b2'], bugged: ['W1', 'b1'] },
];

describe.each(cases)('$name', ({ file, tensors, bugged }) => {
  it(`buggy: exit 1, and the failing tensors are exactly ${bugged.join(', ')}`, () => {
    const { status, report } = check(pythonProgram(file));
    expect(report.checks.map((c) => c.param)).toEqual(tensors);
    expect(failing(report)).toEqual(bugged);
    expect(report.ok).toBe(false);
    expect(status).toBe(1);
  });

  it('fixed: exit 0, every tensor checked and none failing', () => {
    const { status, report } = check(pythonProgram(file), ['--fixed']);
    expect(report.checks.map((c) => c.param)).toEqual(tensors);
    expect(report.checks.every((c) => c.checked > 0)).toBe(true);
    expect(failing(report)).toEqual([]);
    expect(codes(report)).not.toContain(NONDETERMINISTIC_COST);
    expect(report.ok).toBe(true);
    expect(status).toBe(0);
  });
});

describe('MLP with a dropout mask drawn per cost call', () => {
  it('exit 1 with the non-determinism finding, and no tensor failed on such numbers', () => {
    const { status, report } = check(pythonProgram('mlp_bn_dropout.py'), ['--fixed', '--mask-per-call']);
    expect(codes(report)).toContain(NONDETERMINISTIC_COST);
    expect(report.findings.find((f) => f.code === NONDETERMINISTIC_COST)!.severity).toBe('error');
    expect(failing(report)).toEqual([]);
    expect(report.ok).toBe(false);
    expect(status).toBe(1);
  });
});

describe('PyTorch float32 (its default), the fixed backward', () => {
  it('exit 0, judged in float32', () => {
    const { status, report } = check(pythonProgram('torch_softplus.py'), ['--fixed', '--float32']);
    expect(codes(report)).toContain(FLOAT32_PROGRAM);
    expect(failing(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(status).toBe(0);
  });

  it('the float64 run of the same program is not judged in float32', () => {
    const { report } = check(pythonProgram('torch_softplus.py'), ['--fixed']);
    expect(codes(report)).not.toContain(FLOAT32_PROGRAM);
  });
});

describe('JavaScript program speaking the protocol itself (tanh\' written as 1 - a)', () => {
  const program = `${quote(process.execPath)} ${models}/dense.mjs`;

  it('buggy: exit 1, and the failing tensors are exactly W1, b1', () => {
    const { status, report } = check(program);
    expect(report.source).toBe('model');
    expect(report.checks.map((c) => c.param)).toEqual(['W1', 'b1', 'W2', 'b2']);
    // The hello's layers group the tensors in the table.
    expect(report.checks.map((c) => c.layer)).toEqual([1, 1, 2, 2]);
    expect(failing(report)).toEqual(['W1', 'b1']);
    expect(status).toBe(1);
  });

  it('fixed: exit 0', () => {
    const { status, report } = check(program, ['--fixed']);
    expect(failing(report)).toEqual([]);
    expect(report.ok).toBe(true);
    expect(status).toBe(0);
  });
});
