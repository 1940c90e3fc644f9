// Runs corpus cases through the built CLI's main() — the function bin/backprop-check.js calls — in
// one process, so that a hundred cases cost one Node start-up instead of a hundred. Each case runs
// in its own folder with its own environment; everything written to stdout or stderr, through the
// streams main() is given or straight to process.stdout/stderr, is captured. Uncaught exceptions and
// unhandled rejections are recorded against the case. Usage: node harness.mjs <casesDir> <name>…;
// prints one JSON object { name: { status, stdout, stderr } } on file descriptor 1.
import { readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { main } from '../../dist/cli/main.js';

const [casesDir, ...names] = process.argv.slice(2);
const results = {};
let current = null;
const escaped = (e) => { if (current) current.stderr += `\nuncaught: ${e?.stack ?? e}`; };
process.on('uncaughtException', escaped);
process.on('unhandledRejection', escaped);

const realOut = process.stdout.write.bind(process.stdout);
const realErr = process.stderr.write.bind(process.stderr);
const baseEnv = { ...process.env };
const origin = process.cwd();

for (const name of names) {
  const c = JSON.parse(readFileSync(join(casesDir, name, 'case.json'), 'utf8'));
  const r = { status: null, stdout: '', stderr: '' };
  current = r;
  const sink = (key) => ({ isTTY: false, columns: 80, write(chunk) { r[key] += String(chunk); return true; } });
  process.stdout.write = (chunk) => { r.stdout += String(chunk); return true; };
  process.stderr.write = (chunk) => { r.stderr += String(chunk); return true; };
  for (const k of Object.keys(process.env)) if (!(k in baseEnv)) delete process.env[k];
  Object.assign(process.env, baseEnv, { NO_COLOR: '1' }, c.env ?? {});
  delete process.env.FORCE_COLOR;
  if (!c.env?.BACKPROP_CHECK_MAX_CSV_BYTES) delete process.env.BACKPROP_CHECK_MAX_CSV_BYTES;
  try {
    process.chdir(join(casesDir, name));
    r.status = await main(c.args, sink('stdout'), sink('stderr'));
    // Let stray timers and rejections of this case surface before the next one starts.
    await new Promise((resolve) => setTimeout(resolve, 0));
  } catch (e) {
    r.stderr += `\nthrown out of main: ${e?.stack ?? e}`;
  } finally {
    process.chdir(origin);
    process.stdout.write = realOut;
    process.stderr.write = realErr;
    current = null;
  }
  results[name] = r;
}
writeSync(1, JSON.stringify(results));
process.exit(0);
