// The command line: flags → one typed options object → run → render → exit status.
// This is the one place where outcomes become exit codes: 0 all checks pass, 1 a check failed,
// 2 the user's input or usage is wrong (a one-paragraph message, never a stack trace).
import { accessSync, constants, readFileSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { explain, FINDING_CODES } from '../core/findings/registry.js';
import type { Report } from '../core/report.js';
import { clip, UserError } from '../io/errors.js';
import { readSpecJson } from '../io/spec.js';
import { renderHtml } from '../render/html.js';
import { renderJson } from '../render/json.js';
import { renderSweep } from '../render/sweep.js';
import { renderJunit } from '../render/junit.js';
import { renderMarkdown } from '../render/markdown.js';
import { ProgressBar } from '../render/progress.js';
import { renderTable } from '../render/table.js';
import { run, type RunOptions } from '../run.js';
import { EXIT, reportStatus } from './exit-status.js';
import { useSlimMathjs } from './formula-engine.js';


type Format = 'table' | 'json' | 'junit' | 'markdown';

interface CliOptions {
  data?: string;
  params?: string;
  grads?: string;
  exec?: string;
  model?: string;
  connect?: string;
  json?: string;
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
    if (!ok) throw new InvalidArgumentError(`expected a positive number${range}; found "${clip(value)}".`);
    return n;
  };
}

/**
 * float64's machine epsilon, 2⁻⁵² ≈ 2.2e-16: a step below it is lost against a weight of 1
 * (1 + h == 1 for h ≤ 2⁻⁵³), and a denormal step (5e-324) against any weight above 1e-308; a
 * tolerance below it asks for more digits than float64 has.
 */
const MACHINE_EPSILON = 2 ** -52;

/** A positive number as positiveNumber reads it, and at least float64's machine epsilon. */
function resolvable(flag: string, limit: { below?: number; atMost?: number }, what: string) {
  const parse = positiveNumber(flag, limit);
  return (value: string): number => {
    const n = parse(value);
    if (n < MACHINE_EPSILON) throw new InvalidArgumentError(`${what} of at least 2.2e-16 (float64's machine epsilon: ${flag === '--epsilon' ? 'below it θ + h == θ for a weight of 1, so the difference resolves nothing' : 'a relative error below it is beyond float64\'s precision'}); found "${clip(value)}".`);
    return n;
  };
}

function wholeNumber(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    const range = max === Number.MAX_SAFE_INTEGER ? `≥ ${min}` : `from ${min} to ${max}`;
    if (!/^\d+$/.test(value.trim()) || n < min || n > max) throw new InvalidArgumentError(`expected a whole number ${range}; found "${clip(value)}".`);
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
      if (choices) return new UserError('command line', flag, `one of ${choices}`, `"${clip(value)}"`, help);
      const parts = /is invalid\. expected (.*); found (.*)\.$/s.exec(message);
      if (parts) return new UserError('command line', flag, parts[1], parts[2], help);
      return new UserError('command line', flag, 'a valid value', `"${clip(value)}"`, help);
    }
    case 'commander.optionMissingArgument':
      return new UserError('command line', flag, `a value after ${flag}`, 'nothing', help);
    case 'commander.unknownOption': {
      const name = clip(/unknown option '(.*?)'/s.exec(message)?.[1] ?? '');
      const suggestion = /\(Did you mean (.*)\?\)/.exec(message)?.[1];
      return new UserError('command line', name, 'one of the options of backprop-check --help', 'an unknown option', suggestion ? `Did you mean ${suggestion}? ${help}` : help);
    }
    case 'commander.missingArgument':
      return missingArgument(/argument '(.*)'/.exec(message)?.[1] ?? 'an argument');
    case 'commander.excessArguments': {
      const positional = args.filter((a) => !a.startsWith('-'));
      return new UserError('command line', 'the arguments', usage, `${/got (\d+)/.exec(message)?.[1] ?? 'more'} arguments${positional.length > 2 ? ` (the extra one: "${clip(positional[positional.length - 1])}")` : ''}`, help);
    }
    default:
      return new UserError('command line', '', 'valid options', message.replace(/\s+/g, ' ').replace(/\.$/, ''), help);
  }
}

/** A missing <net.json> or <data.csv>, worded as commander's missing required argument was. */
function missingArgument(name: string): UserError {
  return new UserError('command line', 'the arguments', 'two arguments, <net.json> <data.csv>, then the options', `no <${name}>`, 'Run "backprop-check --help" for the options.');
}

export function buildProgram(): Command {
  return new Command()
    .name('backprop-check')
    .description('Checks hand-written backpropagation against finite differences, layer by layer, and says what is wrong.')
    .usage('[options] <net.json> <data.csv>\n       backprop-check [options] --model "<command>" | --connect <socket>')
    // Optional to commander, required by main() unless a program is the model (--model, --connect).
    .argument('[net.json]', 'the network spec')
    .argument('[data.csv]', 'the data set (features first, targets last), or an .npz archive of X and Y')
    .option('--model <command>', 'your own program is the model: start it (through the shell) and check it over the session protocol (JSON Lines on its stdin/stdout); no net.json or data.csv then')
    .option('--connect <socket>', 'check a program speaking the session protocol that listens on this Unix-domain socket')
    .option('--params <file>', 'the weights to check at (JSON or .npz); default: initialised from the spec')
    .option('--grads <file>', 'gradients your own code computed at --params (JSON or .npz); checked instead of the spec’s formulas')
    .option('--exec <command>', 'run your own gradient program (any language) through the exec protocol and check what it prints')
    .option('--exec-timeout <seconds>', 'seconds before the --exec program (and everything it started) is killed; with --model/--connect, for its hello and for each answer', positiveNumber('--exec-timeout'), 60)
    .option('--data <file>', 'the data set instead of the <data.csv> argument: an .npz archive of X and Y (np.savez("data.npz", X=X, Y=Y)) in net.json\'s layout, read bit for bit, or a data.csv')
    .option('--target <columns>', 'target columns of data.csv, by name or 1-based number, comma-separated (default: the last ones)')
    .option('--ignore-columns <columns>', 'columns of data.csv that are neither features nor targets (an id), by name or 1-based number, comma-separated')
    .option('--epsilon <h>', 'finite-difference step', resolvable('--epsilon', { below: 1 }, 'expected a step'), 1e-6)
    .option('--tolerance <t>', 'relative error at or above which a check fails', resolvable('--tolerance', { atMost: 1 }, 'expected a tolerance'), 1e-6)
    .addOption(new Option('--mode <mode>', 'every element, a seeded sample per tensor, or random directions per tensor').choices(['full', 'sample', 'directional']).default('full'))
    .option('--samples <k>', 'elements per tensor (sample mode) or directions per tensor (directional mode)', wholeNumber(1))
    .option('--directions <r>', 'random unit directions per tensor: --mode directional --samples <r>', wholeNumber(1))
    .option('--seed <n>', 'seeds every random choice: initialisation, sampling, directions (default: the spec’s init.seed, else 1)', wholeNumber(0, 4294967295))
    .addOption(new Option('--format <format>', 'output format: junit for CI test reports, markdown for a job summary').choices(['table', 'json', 'junit', 'markdown']))
    .option('--report <file.html>', 'also write a self-contained HTML report with charts to this file')
    .option('--json <file>', 'also write the JSON report (as --format json prints it) to this file')
    .option('--sweep', 'first print the relative error against ε over 1e-1 … 1e-12 (the V-shaped curve), then check at the ε it chooses')
    .option('--taylor', 'also run the Taylor-remainder test per tensor: its order is ≈ 2 when the gradient is right and ≈ 1 when it is wrong, whatever ε')
    .option('--max-evaluations <n>', 'the most (element, sample) evaluations a full or sample check may make (default 10000000)', wholeNumber(1))
    .option('--strict', 'health findings (warnings and errors: vanishing gradients, init scale, …) also make the exit status 1')
    .option('--explain <code>', 'print what a finding code means, with the maths, and exit')
    .option('--no-color', 'no colour (also NO_COLOR=1; FORCE_COLOR=1 forces it)')
    .version('', '-V, --version', 'print the version of backprop-check and exit')
    .showHelpAfterError(false)
    // main() writes help and the version itself, once, to the stream it was given.
    .configureOutput({ writeErr: () => {}, writeOut: () => {} })
    .exitOverride();
}

/**
 * What happens when stdout or stderr cannot be written (bin/backprop-check.js sets it up once).
 * - stdout closed by its reader (EPIPE: backprop-check … | head): not an error; what is left is not
 *   written, and the check still ends with its verdict's status (0 or 1), so that a failing check
 *   piped into head still fails a job that looks at it (set -o pipefail). (Before, the handler
 *   exited at once with the status known so far, 0 if the EPIPE had come before the verdict: it
 *   comes after it in every run measured, but nothing ordered the two.)
 * - stdout failing otherwise (ENOSPC on a full disk or /dev/full, EIO, …): the report is lost, so
 *   neither the verdict's 0 nor its 1 would be true. One line on stderr and exit status 2, the
 *   status of an output that cannot be written (as for an --report path that cannot be written):
 *   a CI job then fails on the broken output instead of passing without a report.
 * - stderr failing: there is nowhere left to say anything; the exit status still tells.
 * Never a stack trace.
 */
export function handleOutputErrors(out: NodeJS.WriteStream = process.stdout, err: NodeJS.WriteStream = process.stderr): void {
  err.on('error', () => {});
  out.on('error', (e: NodeJS.ErrnoException) => {
    // The stream is destroyed: later writes are dropped without another 'error'.
    if (e.code === 'EPIPE') return;
    process.exit(outputFailed(e, (line) => writeSync(2, line)));
  });
}

/**
 * Ends the process with `status` as soon as everything written has been written, instead of
 * waiting for the event loop to empty: by then V8 has often scheduled a garbage collection of the
 * whole heap, which would run first for nothing (~10 ms after a check with formulas).
 * - Only when stdout and stderr hold nothing unwritten: writes to files, and to pipes and
 *   terminals on Linux, are synchronous; a write still under way (a pipe whose reader is slow, or
 *   a platform where pipes are asynchronous) leaves the process to end by itself when it is done.
 * - In the next turn of the event loop (setImmediate), after the ticks on which a stream emits the
 *   error of a write that failed: handleOutputErrors has then set the status of a full disk (2).
 */
export function exitWhenWritten(status: number, out: NodeJS.WriteStream = process.stdout, err: NodeJS.WriteStream = process.stderr): void {
  process.exitCode = status;
  setImmediate(() => {
    if (out.writableLength === 0 && err.writableLength === 0) process.exit(status);
  });
}

/** Says (where it can) that stdout failed; returns the exit status for it. */
export function outputFailed(e: NodeJS.ErrnoException, writeErr: (line: string) => void): number {
  const why = OUTPUT_ERRORS[e.code ?? ''] ?? e.message;
  const message = new UserError('stdout', '', 'somewhere the output can be written', `${e.code ?? 'an error'}: ${why}`, 'The output (the report) was not written.').message;
  try { writeErr(`backprop-check: ${message}\n`); } catch { /* stderr is gone too */ }
  return EXIT.usage;
}

const OUTPUT_ERRORS: Record<string, string> = {
  ENOSPC: 'no space left on the device', EDQUOT: 'the disk quota is exhausted', EIO: 'an input/output error',
  EBADF: 'stdout is closed', EFBIG: 'the file is too large', EROFS: 'the file system is read-only', ECONNRESET: 'the connection was reset',
};

/** The package's version, from its package.json (dist/cli/../../package.json, in the clone and in an installed package alike). */
export function version(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}

/** Every value each option that takes one was given, in order, as commander parses them. */
function valuesGiven(program: Command): Map<string, string[]> {
  const given = new Map<string, string[]>();
  for (const option of program.options) {
    if (!(option.required || option.optional) || option.variadic) continue;
    const flag = option.long ?? option.short ?? option.name();
    program.on(`option:${option.name()}`, (value: string) => { given.set(flag, [...(given.get(flag) ?? []), value]); });
  }
  return given;
}

/** An option that takes one value, given twice, is ambiguous: commander would silently keep the last. */
function repeatedOption(given: Map<string, string[]>): UserError | null {
  for (const [flag, values] of given) {
    if (values.length < 2) continue;
    return new UserError('command line', flag, 'each option at most once', `${flag} ${values.length === 2 ? 'twice' : `${values.length} times`} (${values.map((v) => `"${clip(v)}"`).join(', ')}), where the last would silently win`,
      'Run "backprop-check --help" for the options.');
  }
  return null;
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
  useSlimMathjs();
  const explained = explainRequest(argv);
  if (explained !== null) return explainCode(explained, out, err);
  const program = buildProgram();
  const given = valuesGiven(program);
  try {
    program.parse(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      if (e.code === 'commander.version') {
        out.write(`${version()}\n`);
        return EXIT.pass;
      }
      if (e.code === 'commander.helpDisplayed' || e.code === 'commander.help') {
        out.write(program.helpInformation());
        return EXIT.pass;
      }
      err.write(`backprop-check: ${usageError(e, argv).message}\n`);
      return EXIT.usage;
    }
    throw e;
  }
  const [net, dataArgument] = program.args;
  const o = program.opts<CliOptions>();
  if (o.data !== undefined && dataArgument !== undefined) {
    err.write(`backprop-check: ${new UserError('command line', '--data', 'either --data or a <data.csv> argument: each names the data set', `both (--data "${clip(o.data)}" and "${clip(dataArgument)}")`).message}\n`);
    return EXIT.usage;
  }
  const data = o.data ?? dataArgument;
  // The files are required unless a program is the model (which refuses them: run.ts, runModel).
  if (o.model === undefined && o.connect === undefined && (net === undefined || data === undefined)) {
    err.write(`backprop-check: ${missingArgument(net === undefined ? 'net.json' : 'data.csv').message}\n`);
    return EXIT.usage;
  }
  const repeated = repeatedOption(given);
  if (repeated) {
    err.write(`backprop-check: ${repeated.message}\n`);
    return EXIT.usage;
  }
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
    if (o.report !== undefined) assertWritable(o.report, '--report', 'an HTML file');
    if (o.json !== undefined) assertWritable(o.json, '--json', 'a JSON file');
    const report = await run({
      net, data, model: o.model, connect: o.connect,
      params: o.params, grads: o.grads, exec: o.exec, execTimeout: o.execTimeout, target: o.target, ignoreColumns: o.ignoreColumns,
      epsilon: sweepEpsilon(o, program.getOptionValueSource('epsilon') === 'default'), tolerance: o.tolerance,
      ...modeAndSamples(o, program.getOptionValueSource('mode') === 'default'),
      seed: o.seed, sweep: o.sweep, taylor: o.taylor, maxEvaluations: o.maxEvaluations,
      onProgress: (done, total) => progress.update(done, total), shouldStop: () => interrupted,
    });
    progress.clear();
    if (o.report !== undefined) {
      // A program as the model has no spec or files to show; the page is titled by the program.
      const context = net !== undefined ? { spec: readSpecJson(net), net, data } : { program: o.model !== undefined ? `--model "${o.model}"` : `--connect ${o.connect}` };
      writeReport(o.report, renderHtml(report, context), '--report', 'an HTML file');
      err.write(`backprop-check: wrote the HTML report to ${o.report}\n`);
    }
    if (o.json !== undefined) writeReport(o.json, renderJson(report), '--json', 'a JSON file');
    const color = useColor(o.color, Boolean(out.isTTY), process.env);
    if (report.sweep && (o.format ?? 'table') === 'table') out.write(renderSweep(report.sweep, color));
    out.write(render(report, o.format ?? 'table', color, out.isTTY && out.columns > 0 ? out.columns : undefined));
    return reportStatus(report, Boolean(o.strict));
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

/** Writes the --report (or --json) file; a path that cannot be written is the user's mistake (exit status 2). */
function writeReport(path: string, text: string, flag: string, what: string): void {
  try {
    writeFileSync(path, text);
  } catch (e) {
    throw reportError(path, e, flag, what);
  }
}

/** Whether --report's (--json's) path could be written, asked of the file system without creating anything. */
function assertWritable(path: string, flag: string, what: string): void {
  try {
    const existing = statSync(path, { throwIfNoEntry: false });
    if (existing?.isDirectory()) throw Object.assign(new Error('a folder'), { code: 'EISDIR' });
    // Writing to a FIFO waits for a reader that may never come.
    if (existing?.isFIFO() || existing?.isSocket()) throw Object.assign(new Error('a pipe'), { code: 'EPIPEFILE' });
    accessSync(existing ? path : dirname(resolve(path)), constants.W_OK);
  } catch (e) {
    throw reportError(path, e, flag, what);
  }
}

function reportError(path: string, e: unknown, flag: string, what: string): UserError {
  const code = (e as NodeJS.ErrnoException).code ?? '';
  const why = WRITE_ERRORS[code] ?? (e as Error).message;
  return new UserError('command line', flag, `${what} that can be written`, `"${path}": ${why}`);
}

const WRITE_ERRORS: Record<string, string> = {
  ENOENT: 'its folder does not exist', ENOTDIR: 'its folder does not exist', EISDIR: 'it is a folder',
  EACCES: 'permission denied', EPERM: 'permission denied', EROFS: 'the file system is read-only',
  ENOSPC: 'no space left on the device', EDQUOT: 'the disk quota is exhausted',
  EPIPEFILE: 'it is a named pipe (FIFO) or a socket, not a file',
};

/** The code after --explain (or --explain=code), undefined when none follows; null without --explain. */
function explainRequest(argv: string[]): string | undefined | null {
  const at = argv.findIndex((a) => a === '--explain' || a.startsWith('--explain='));
  if (at < 0) return null;
  return argv[at].startsWith('--explain=') ? argv[at].slice('--explain='.length) : argv[at + 1];
}

/** --explain <code>: the explanation on stdout (exit 0), or the list of codes (exit 2). */
function explainCode(code: string | undefined, out: NodeJS.WritableStream, err: NodeJS.WritableStream): number {
  const text = code === undefined ? undefined : explain(code);
  if (text !== undefined) {
    out.write(text);
    return EXIT.pass;
  }
  const e = new UserError('command line', '--explain', `one of the finding codes ${FINDING_CODES.join(', ')}`, code === undefined ? 'nothing' : `"${code}"`);
  err.write(`backprop-check: ${e.message}\n`);
  return EXIT.usage;
}
