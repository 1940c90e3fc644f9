// The command line: flags → one typed options object → run → render → exit status.
// This is the one place where outcomes become exit codes: 0 all checks pass, 1 a check failed,
// 2 the user's input or usage is wrong (a one-paragraph message, never a stack trace).
import { accessSync, constants, statSync, writeFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { explain, FINDING_CODES, healthFails } from './core/diagnose/index.js';
import { explainNumerics } from './core/numerics.js';
import type { Report } from './core/report.js';
import { UserError } from './io/errors.js';
import { readSpecJson } from './io/spec.js';
import { EXTRA_GRADIENTS, explainTensorNote, OTHER_LAYOUT } from './io/tensors.js';
import { renderHtml } from './render/html.js';
import { renderJson } from './render/json.js';
import { renderSweep } from './render/sweep.js';
import { renderJunit } from './render/junit.js';
import { renderMarkdown } from './render/markdown.js';
import { ProgressBar } from './render/progress.js';
import { renderTable } from './render/table.js';
import { run, type RunOptions } from './run.js';

export const EXIT = { pass: 0, fail: 1, usage: 2, internal: 3, interrupted: 130 } as const;

type Format = 'table' | 'json' | 'junit' | 'markdown';

interface CliOptions {
  params?: string;
  grads?: string;
  exec?: string;
  execTimeout: number;
  target?: string;
  ignoreColumns?: string;
  epsilon: number;
  tolerance: number;
  mode: RunOptions['mode'];
  samples?: number;
  directions?: number;
  seed?: number;
  format?: Format;
  color: boolean;
  strict?: boolean;
  report?: string;
  sweep?: boolean;
  taylor?: boolean;
  maxEvaluations?: number;
}

/** A decimal number (1e-6, 0.001); hex, "Infinity" and the empty string are not numbers here. */
const DECIMAL = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** A positive number, below `below` (or at most `atMost`) when given. Messages read "expected …; found …". */
function positiveNumber(_flag: string, limit: { below?: number; atMost?: number } = {}) {
  const range = limit.below !== undefined ? ` below ${limit.below}` : limit.atMost !== undefined ? ` no larger than ${limit.atMost}` : '';
  return (value: string): number => {
    const n = Number(value);
    const ok = DECIMAL.test(value.trim()) && Number.isFinite(n) && n > 0 &&
      (limit.below === undefined || n < limit.below) && (limit.atMost === undefined || n <= limit.atMost);
    if (!ok) throw new InvalidArgumentError(`expected a positive number${range}; found "${value}".`);
    return n;
  };
}

function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number ${range}; found "${value}".`);
    return n;
  };
}

/**
 * Commander's own usage errors, reworded into the one-paragraph shape of every other input error:
 * the place (a flag or the arguments), what was expected, what was found.
 */
export function usageError(e: CommanderError, args: readonly string[]): UserError {
  const message = e.message.replace(/^error: /, '');
  const help = 'Run "backprop-check --help" for the options.';
  const flag = /^option '(-[^\s',]+)/.exec(message)?.[1] ?? '';
  const usage = 'two arguments, <net.json> <data.csv>, then the options';
  switch (e.code) {
    case 'commander.invalidArgument': {
      const value = /argument '(.*)' is invalid\./s.exec(message)?.[1] ?? '';
      const choices = /Allowed choices are (.*)\.$/.exec(message)?.[1];
      if (choices) return new UserError('command line', flag, `one of ${choices}`, `"${value}"`, help);
      const parts = /is invalid\. expected (.*); found (.*)\.$/s.exec(message);
      if (parts) return new UserError('command line', flag, parts[1], parts[2], help);
      return new UserError('command line', flag, 'a valid value', `"${value}"`, help);
    }
    case 'commander.optionMissingArgument':
      return new UserError('command line', flag, `a value after ${flag}`, 'nothing', help);
    case 'commander.unknownOption': {
      const name = /unknown option '(.*?)'/.exec(message)?.[1] ?? '';
      const suggestion = /\(Did you mean (.*)\?\)/.exec(message)?.[1];
      return new UserError('command line', name, 'one of the options of backprop-check --help', 'an unknown option', suggestion ? `Did you mean ${suggestion}? ${help}` : help);
    }
    case 'commander.missingArgument': {
      const name = /argument '(.*)'/.exec(message)?.[1] ?? 'an argument';
      return new UserError('command line', 'the arguments', usage, `no <${name}>`, help);
    }
    case 'commander.excessArguments': {
      const positional = args.filter((a) => !a.startsWith('-'));
      return new UserError('command line', 'the arguments', usage, `${/got (\d+)/.exec(message)?.[1] ?? 'more'} arguments${positional.length > 2 ? ` (the extra one: "${positional[positional.length - 1]}")` : ''}`, help);
    }
    default:
      return new UserError('command line', '', 'valid options', message.replace(/\s+/g, ' ').replace(/\.$/, ''), help);
  }
}

export function buildProgram(): Command {
  return new Command()
    .name('backprop-check')
    .description('Checks hand-written backpropagation against finite differences, layer by layer, and says what is wrong.')
    .argument('<net.json>', 'the network spec')
    .argument('<data.csv>', 'the data set (features first, targets last)')
    .option('--params <file>', 'the weights to check at (JSON or .npz); default: initialised from the spec')
    .option('--grads <file>', 'gradients your own code computed at --params (JSON or .npz); checked instead of the spec’s formulas')
    .option('--exec <command>', 'run your own gradient program (any language) through the exec protocol and check what it prints')
    .option('--exec-timeout <seconds>', 'seconds before the --exec program (and everything it started) is killed', positiveNumber('--exec-timeout'), 60)
    .option('--target <columns>', 'target columns of data.csv, by name or 1-based number, comma-separated (default: the last ones)')
    .option('--ignore-columns <columns>', 'columns of data.csv that are neither features nor targets (an id), by name or 1-based number, comma-separated')
    .option('--epsilon <h>', 'finite-difference step', positiveNumber('--epsilon', { below: 1 }), 1e-6)
    .option('--tolerance <t>', 'relative error at or above which a check fails', positiveNumber('--tolerance', { atMost: 1 }), 1e-6)
    .addOption(new Option('--mode <mode>', 'every element, a seeded sample per tensor, or random directions per tensor').choices(['full', 'sample', 'directional']).default('full'))
    .option('--samples <k>', 'elements per tensor (sample mode) or directions per tensor (directional mode)', wholeNumber(1))
    .option('--directions <r>', 'random unit directions per tensor: --mode directional --samples <r>', wholeNumber(1))
    .option('--seed <n>', 'seeds every random choice: initialisation, sampling, directions (default: the spec’s init.seed, else 1)', wholeNumber(0, 4294967295))
    .addOption(new Option('--format <format>', 'output format: junit for CI test reports, markdown for a job summary').choices(['table', 'json', 'junit', 'markdown']))
    .option('--report <file.html>', 'also write a self-contained HTML report with charts to this file')
    .option('--sweep', 'first print the relative error against ε over 1e-1 … 1e-12 (the V-shaped curve), then check at the ε it chooses')
    .option('--taylor', 'also run the Taylor-remainder test per tensor: its order is ≈ 2 when the gradient is right and ≈ 1 when it is wrong, whatever ε')
    .option('--max-evaluations <n>', 'the most (element, sample) evaluations a full or sample check may make (default 10000000)', wholeNumber(1))
    .option('--strict', 'health findings (warnings and errors: vanishing gradients, init scale, …) also make the exit status 1')
    .option('--explain <code>', 'print what a finding code means, with the maths, and exit')
    .option('--no-color', 'no colour (also NO_COLOR=1; FORCE_COLOR=1 forces it)')
    .showHelpAfterError(false)
    .configureOutput({ writeErr: () => {} })
    .exitOverride();
}

/** Colour on a terminal, unless NO_COLOR or --no-color; FORCE_COLOR forces it (but not over --no-color). */
export function useColor(flag: boolean, isTty: boolean, env: NodeJS.ProcessEnv): boolean {
  if (!flag) return false;
  // force-color.org: present and non-empty forces colour ("0"/"false" are read as off, as chalk does).
  const force = env.FORCE_COLOR;
  if (force !== undefined && force !== '' && force !== '0' && force !== 'false') return true;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  return isTty;
}

/** `width`: the terminal's columns, for wrapping the table format's findings (default 100). */
export function render(report: Report, format: Format, color: boolean, width?: number): string {
  switch (format) {
    case 'json': return renderJson(report);
    case 'junit': return renderJunit(report);
    case 'markdown': return renderMarkdown(report);
    case 'table': return renderTable(report, color, width);
  }
}

export async function main(argv: string[], out: NodeJS.WriteStream = process.stdout, err: NodeJS.WriteStream = process.stderr): Promise<number> {
  const explained = explainRequest(argv);
  if (explained !== null) return explainCode(explained, out, err);
  const program = buildProgram();
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version' || e.code === 'commander.help') {
        out.write(program.helpInformation());
        return EXIT.pass;
      }
      err.write(`backprop-check: ${usageError(e, argv).message}\n`);
      return EXIT.usage;
    }
    throw e;
  }
  const [net, data] = program.args;
  const o = program.opts<CliOptions>();
  // Ctrl-C stops the check and prints what was checked so far (exit 130); a second one quits at once.
  let interrupted = false;
  const onInterrupt = () => {
    if (interrupted) process.exit(EXIT.interrupted);
    interrupted = true;
  };
  process.on('SIGINT', onInterrupt);
  const progress = new ProgressBar(err);
  try {
    // An --report path that cannot be written is found now, not after a long check.
    if (o.report !== undefined) assertWritable(o.report);
    const report = await run({
      net, data,
      params: o.params, grads: o.grads, exec: o.exec, execTimeout: o.execTimeout, target: o.target, ignoreColumns: o.ignoreColumns,
      epsilon: sweepEpsilon(o, program.getOptionValueSource('epsilon') === 'default'), tolerance: o.tolerance,
      ...modeAndSamples(o, program.getOptionValueSource('mode') === 'default'),
      seed: o.seed, sweep: o.sweep, taylor: o.taylor, maxEvaluations: o.maxEvaluations,
      onProgress: (done, total) => progress.update(done, total), shouldStop: () => interrupted,
    });
    progress.clear();
    if (o.report !== undefined) {
      writeReport(o.report, renderHtml(report, { spec: readSpecJson(net), net, data }));
      err.write(`backprop-check: wrote the HTML report to ${o.report}\n`);
    }
    const color = useColor(o.color, Boolean(out.isTTY), process.env);
    if (report.sweep && (o.format ?? 'table') === 'table') out.write(renderSweep(report.sweep, color));
    out.write(render(report, o.format ?? 'table', color, out.isTTY && out.columns > 0 ? out.columns : undefined));
    if (report.partial) return EXIT.interrupted;
    return report.ok && !(o.strict && healthFails(report)) ? EXIT.pass : EXIT.fail;
  } catch (e) {
    progress.clear();
    if (e instanceof UserError) {
      err.write(`backprop-check: ${e.message}\n`);
      // Ctrl-C while an --exec program ran: it was stopped, so it gave no answer; still an interruption.
      return interrupted ? EXIT.interrupted : EXIT.usage;
    }
    err.write(`backprop-check: internal error (this is a bug in backprop-check, not in your input; please report it):\n${(e as Error).stack ?? String(e)}\n`);
    return EXIT.internal;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}

/**
 * The --epsilon to run with: none when not given (each tensor's step is then scaled from the base
 * 1e-6) and with --sweep, which chooses it (and is a mistake beside an explicit --epsilon).
 */
function sweepEpsilon(o: CliOptions, defaulted: boolean): number | undefined {
  if (!o.sweep) return defaulted ? undefined : o.epsilon;
  if (!defaulted) throw new UserError('command line', '--sweep', 'either --sweep or --epsilon: the sweep chooses ε itself', 'both');
  return undefined;
}

/** --directions r is --mode directional --samples r; with another --mode, or with --samples too, it is a mistake. */
function modeAndSamples(o: CliOptions, modeDefaulted: boolean): Pick<RunOptions, 'mode' | 'samples'> {
  if (o.directions === undefined) return { mode: o.mode, samples: o.samples };
  if (!modeDefaulted && o.mode !== 'directional') {
    throw new UserError('command line', '--directions', '--mode directional (directions are only drawn in that mode)', `--mode ${o.mode}`, 'For a sample of elements per tensor use --samples.');
  }
  if (o.samples !== undefined) {
    throw new UserError('command line', '--directions', 'either --directions or --samples: in directional mode they are the same setting', 'both');
  }
  return { mode: 'directional', samples: o.directions };
}

/** Writes the --report file; a path that cannot be written is the user's mistake (exit status 2). */
function writeReport(path: string, html: string): void {
  try {
    writeFileSync(path, html);
  } catch (e) {
    throw reportError(path, e);
  }
}

/** Whether --report's path could be written, asked of the file system without creating anything. */
function assertWritable(path: string): void {
  try {
    const existing = statSync(path, { throwIfNoEntry: false });
    if (existing?.isDirectory()) throw Object.assign(new Error('a folder'), { code: 'EISDIR' });
    accessSync(existing ? path : dirname(resolve(path)), constants.W_OK);
  } catch (e) {
    throw reportError(path, e);
  }
}

function reportError(path: string, e: unknown): UserError {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  const why = WRITE_ERRORS[code] ?? (e as Error).message;
  return new UserError('command line', '--report', 'an HTML file that can be written', `"${path}": ${why}`);
}

const WRITE_ERRORS: Record<string, string> = {
  ENOENT: 'its folder does not exist', ENOTDIR: 'its folder does not exist', EISDIR: 'it is a folder',
  EACCES: 'permission denied', EPERM: 'permission denied', EROFS: 'the file system is read-only',
};

/** The code after --explain (or --explain=code), undefined when none follows; null without --explain. */
function explainRequest(argv: string[]): string | undefined | null {
  const at = argv.findIndex((a) => a === '--explain' || a.startsWith('--explain='));
  if (at < 0) return null;
  return argv[at].startsWith('--explain=') ? argv[at].slice('--explain='.length) : argv[at + 1];
}

/** --explain <code>: the explanation on stdout (exit 0), or the list of codes (exit 2). */
function explainCode(code: string | undefined, out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  const text = code === undefined ? undefined : explain(code) ?? explainNumerics(code) ?? explainTensorNote(code);
  if (text !== undefined) {
    out.write(text);
    return EXIT.pass;
  }
  const e = new UserError('command line', '--explain', `one of the finding codes ${[...FINDING_CODES, 'zero-gradients', 'float32-precision', 'float64-resolution', EXTRA_GRADIENTS, OTHER_LAYOUT].join(', ')}`, code === undefined ? 'nothing' : `"${code}"`);
  err.write(`backprop-check: ${e.message}\n`);
  return EXIT.usage;
}
