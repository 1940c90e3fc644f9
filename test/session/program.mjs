// A small program speaking the session protocol, for the tests of io/session.ts and of --model.
// Its model: J = Σ W²/2 + Σ b³/3 + 2·s² over W (2×3), b (3) and a 0-d s, so ∂J/∂W = W, ∂J/∂b = b²,
// ∂J/∂s = 4s. Arguments after the first are ignored (the lifetime tests mark processes with them). The first argument picks a behaviour: "good", "bug" (∂J/∂b = 2b), or one of the
// protocol faults below; the requests it received are logged to $SESSION_LOG when that is set.
import { appendFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const mode = process.argv[2] ?? 'good';
const log = process.env.SESSION_LOG;
const params = { W: [[0.5, -1, 2], [1.5, 0.25, -0.75]], b: [0.3, -0.6, 0.9], s: 0.7 };
const flat = { W: params.W.flat(), b: params.b.slice(), s: [params.s] };
const shapes = { W: [2, 3], b: [3], s: [] };

function cost(p) {
  let j = 0;
  for (const w of p.W) j += (w * w) / 2;
  for (const v of p.b) j += (v * v * v) / 3;
  return j + 2 * p.s[0] * p.s[0];
}

function offset(name, index) {
  let k = 0;
  index.forEach((i, d) => { k = k * shapes[name][d] + i; });
  return k;
}

function stepped(step) {
  const p = { W: flat.W.slice(), b: flat.b.slice(), s: flat.s.slice() };
  if ('index' in step) p[step.param][offset(step.param, step.index)] += step.delta;
  else {
    const d = [step.direction].flat(Infinity);
    for (let i = 0; i < d.length; i++) p[step.param][i] += step.scale * d[i];
  }
  return p;
}

const say = (obj) => process.stdout.write(JSON.stringify(obj) + '\n');

if (mode === 'debug-line') console.log('loading the model...');
if (mode === 'exit-before-hello') {
  console.error('Traceback (most recent call last):\nModuleNotFoundError: No module named numpy');
  process.exit(3);
}
if (mode === 'silent') setInterval(() => {}, 1000);
const hello = { protocol: 'backprop-check/1', params, layers: [['W', 'b'], ['s']] };
if (mode === 'wrong-version') hello.protocol = 'backprop-check/2';
if (mode === 'ragged') hello.params = { ...params, W: [[1, 2, 3], [4, 5]] };
if (mode === 'shape-data') hello.params = { ...params, W: { shape: [2, 3], data: [1, 2, 3, 4, 5] } };
if (mode === 'float32') hello.dtype = 'float32';
// "no-newline": the hello without its "\n", as an unflushed or unterminated write leaves it.
if (mode === 'no-newline') process.stdout.write(JSON.stringify(hello));
else if (mode !== 'silent') say(hello);

let costsSeen = 0;
let held = null;
createInterface({ input: process.stdin }).on('line', (line) => {
  if (log) appendFileSync(log, line + '\n');
  const req = JSON.parse(line);
  const { id, op } = req;
  if (op === 'bye') {
    say({ id });
    process.exit(mode === 'bye-fails' ? 4 : 0);
  }
  if (op === 'grads') {
    const g = { W: params.W, b: params.b.map((v) => (mode === 'bug' ? 2 * v : v * v)), s: 4 * params.s };
    if (mode === 'missing-grad') delete g.b;
    if (mode === 'extra-grad') g.c = [1];
    if (mode === 'transposed-grad') g.W = [[0.5, 1.5], [-1, 0.25], [2, -0.75]];
    if (mode === 'not-json') return process.stdout.write(`{"id": ${id}, "grads": {W: 1}}\n`);
    if (mode === 'wrong-id') return say({ id: id + 1, grads: g });
    if (mode === 'error-reply') return say({ id, error: 'CUDA out of memory' });
    // Both lines in one write: they arrive together, before the next request is sent.
    if (mode === 'extra-line') return process.stdout.write(`${JSON.stringify({ id, grads: g })}\n${JSON.stringify({ id, grads: g })}\n`);
    if (mode === 'quit') { say({ id, grads: g }); process.exit(0); }
    return say({ id, grads: g });
  }
  if (op === 'cost') {
    if (mode === 'nan-cost') return process.stdout.write(`{"id": ${id}, "cost": NaN}\n`);
    return say({ id, cost: cost(flat) });
  }
  if (op === 'costs') {
    costsSeen++;
    if (mode === 'crash') {
      console.error('Traceback (most recent call last):\nIndexError: index 3 is out of bounds for axis 0 with size 3');
      process.exit(1);
    }
    if (mode === 'hang') return;
    if (mode === 'flood') return process.stdout.write('x'.repeat(Number(process.env.FLOOD_BYTES ?? 3 * 1024 * 1024)));
    const costs = (req.steps ?? req.directions).map((s) => cost(stepped(s)));
    // "swap": the first two costs requests answered in the wrong order.
    if (mode === 'swap' && costsSeen === 1) { held = { id, costs }; return; }
    if (mode === 'swap' && costsSeen === 2) { say({ id, costs }); return say(held); }
    if (mode === 'count') costs.pop();
    if (mode === 'nan-forms') {
      // Every non-finite form the protocol accepts, after the real costs' first four.
      const text = costs.map((c, i) => (i === 0 ? 'NaN' : i === 1 ? 'Infinity' : i === 2 ? '-Infinity' : i === 3 ? 'null' : i === 4 ? '"NaN"' : i === 5 ? '"-Infinity"' : String(c)));
      return process.stdout.write(`{"id": ${id}, "costs": [${text.join(', ')}]}\n`);
    }
    if (mode === 'bad-cost') costs[1] = 'oops';
    if (mode === 'late-crash' && costsSeen > 1) process.kill(process.pid, 'SIGSEGV');
    // A slow model: each answer a second late (timers of equal delay fire in order, so answers stay in order).
    if (mode === 'slow') return setTimeout(() => say({ id, costs }), 1000);
    return say({ id, costs });
  }
  say({ id, error: `unknown op ${op}` });
});
