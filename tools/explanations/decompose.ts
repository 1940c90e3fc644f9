// The explanations group of diagnose/decompose.ts: mistakes named from the error itself, E = G − Ĝ
// fitted on one interpretable direction. Each is injected into the dense architectures A..E of
// tools/matrix.ts as a user's gradients (--grads), and into programs P1..P4 checked as --model (the
// library's program check, the cost written from the same networks, the finite differences as Ĝ).
import { checkProgram } from '../../src/core/check/program-check.js';
import { DEFAULT_OPTIONS } from '../../src/core/check/check.js';
import { forward } from '../../src/core/forward.js';
import { initialise } from '../../src/core/init.js';
import { namedTensors, paramLabel, type Grads, type Model, type Params } from '../../src/core/model.js';
import { functionProgram, type ModelParams } from '../../src/core/session/functions.js';
import { Random } from '../../src/core/random.js';
import type { Tensor } from '../../src/core/tensor.js';
import { parseSpec, withInputs } from '../../src/io/spec.js';
import type { FindingCode } from '../../src/core/findings/registry.js';
import { ARCHITECTURES, dataFor, judge, runCheck, userBackprop, type Cell } from '../matrix.js';
import type { ExplanationEntry } from './index.js';

/** A mistake as a change to the right gradients: `g` holds them by label, `p` the parameters. */
type Change = (g: Map<string, Float64Array>, p: Map<string, Float64Array>, m: number) => void;

/** `layer`: the 1-based layer the finding must name (absent: the output layer, among every layer the mistake is made at). */
interface Mistake { id: string; name: string; code: FindingCode; change: Change; layer?: number }

const isW = (label: string) => label.startsWith('W');
const each = (g: Map<string, Float64Array>, pick: (label: string) => boolean, f: (x: Float64Array, label: string) => void) => {
  for (const [label, x] of g) if (pick(label)) f(x, label);
};

const MISTAKES: Mistake[] = [
  {
    id: 'l2-not-in-cost', name: 'λ/m·W in dW, no L2 in the cost', code: 'wrong-l2-gradient',
    change: (g, p, m) => each(g, isW, (x, l) => x.forEach((_v, i) => { x[i] += (0.1 / m) * p.get(l)![i]; })),
  },
  {
    id: 'constant-on-db', name: '+0.01 on every db', code: 'constant-offset',
    change: (g) => each(g, (l) => !isW(l), (x) => x.forEach((_v, i) => { x[i] += 0.01; })),
  },
  {
    id: 'bias-penalty', name: 'λ/m·b in every db', code: 'bias-penalty',
    change: (g, p, m) => each(g, (l) => !isW(l), (x, l) => x.forEach((_v, i) => { x[i] += (0.3 / m) * p.get(l)![i]; })),
  },
  {
    id: 'l1-in-dW', name: 'λ·sign(W) in dW (L1)', code: 'l1-gradient',
    change: (g, p) => each(g, isW, (x, l) => x.forEach((_v, i) => { x[i] += 0.01 * Math.sign(p.get(l)![i]); })),
  },
  {
    // dZ1 summed over the units before dW1 = dZ1·Xᵀ/m (a (1, m) error broadcast over every unit):
    // every row of dW1 is the sum of the right rows.
    id: 'dW-rows-broadcast', name: 'dW1 from a (1, m) error broadcast over the units', code: 'broadcast-gradient', layer: 1,
    change: (g) => {
      const x = g.get('W1')!, rows = g.get('b1')!.length, cols = x.length / rows;
      const sum = Array.from({ length: cols }, (_v, j) => { let s = 0; for (let i = 0; i < rows; i++) s += x[i * cols + j]; return s; });
      x.forEach((_v, k) => { x[k] = sum[k % cols]; });
    },
  },
  {
    id: 'db-from-dW', name: 'db = np.sum(dW, axis=1)', code: 'gradient-of-other-tensor',
    change: (g) => {
      for (const [label, x] of g) {
        if (isW(label)) continue;
        const dW = g.get(`W${label.slice(1)}`)!, cols = dW.length / x.length;
        x.forEach((_v, i) => { let s = 0; for (let j = 0; j < cols; j++) s += dW[i * cols + j]; x[i] = s; });
      }
    },
  },
];

interface Prepared { label: string; model: Model; params: Params; X: Tensor; Y: Tensor }

function prepared(): Prepared[] {
  return ARCHITECTURES.map((arch, i) => {
    const inputs = 3 + (i % 2);
    const model = withInputs(parseSpec({ input: inputs, ...arch.spec }, 'matrix').model, inputs);
    return { label: String.fromCharCode(65 + i), model, params: withBiases(initialise(model), 200 + i), ...dataFor(model, arch.samples, 100 + i) };
  });
}

/** The initialised weights with seeded non-zero biases (init sets them to 0, where no bias penalty shows). */
function withBiases(params: Params, seed: number): Params {
  const rng = new Random(seed);
  return params.map((layer) => Object.fromEntries(Object.entries(layer).map(([name, t]) =>
    [name, name === 'b' ? { ...t, data: Float64Array.from(t.data, () => 0.1 * rng.normal()) } : t])));
}

const byLabel = (model: Model, set: Params) => new Map(namedTensors(model, set).map((t) => [t.label, Float64Array.from(t.value.data)]));

/** The right gradients with the mistake made, as a Grads for --grads. */
function buggy(n: Prepared, change: Change, params: Params = n.params): Grads {
  const right = userBackprop(n.model, params, n.X, n.Y, null);
  const g = byLabel(n.model, right);
  change(g, byLabel(n.model, params), n.X.shape[1]);
  return right.map((layer, l) => Object.fromEntries(Object.entries(layer).map(([name, t]) => [name, { ...t, data: g.get(paramLabel({ layer: l, name }))! }])));
}

/** The network as an in-process program: its cost, and the buggy gradients. */
function program(n: Prepared, change: Change) {
  const refs = namedTensors(n.model, n.params);
  const paramsOf = (p: ModelParams): Params => n.params.map((layer, l) => Object.fromEntries(Object.entries(layer).map(([name, t]) => {
    const v = p[paramLabel({ layer: l, name })] as { shape: readonly number[]; data: ArrayLike<number> };
    return [name, { ...t, data: Float64Array.from(v.data) }];
  })));
  const out: Record<string, Tensor> = {};
  for (const r of refs) out[r.label] = r.value;
  return functionProgram({
    params: out as unknown as ModelParams,
    layers: n.model.layers.map((_x, l) => refs.filter((r) => r.ref.layer === l).map((r) => r.label)),
    cost: (p) => forward(n.model, paramsOf(p), n.X, n.Y).cost,
    grads: (p) => {
      const g = buggy(n, change, paramsOf(p));
      const named: Record<string, Tensor> = {};
      g.forEach((layer, l) => { for (const [name, t] of Object.entries(layer)) named[paramLabel({ layer: l, name })] = t; });
      return named as unknown as ModelParams;
    },
  });
}

/** Programs P1..P4: the first four dense architectures. */
const PROGRAMS = 4;

export async function entries(): Promise<ExplanationEntry[]> {
  const nets = prepared();
  const out: ExplanationEntry[] = [];
  for (const mistake of MISTAKES) {
    const programCells: Record<string, Cell> = {};
    for (let i = 0; i < PROGRAMS; i++) {
      const n = nets[i];
      const report = await checkProgram(program(n, mistake.change), { ...DEFAULT_OPTIONS, seed: 1 });
      programCells[`P${i + 1}`] = judge(report, mistake.code, mistake.layer ?? n.model.layers.length);
    }
    out.push({
      id: mistake.id, name: mistake.name, code: mistake.code,
      cells: () => {
        const cells: Record<string, Cell | null> = { ...programCells };
        for (const n of nets) {
          const report = runCheck(n.model, n.params, n.X, n.Y, { source: 'grads', grads: buggy(n, mistake.change) }, null);
          cells[n.label] = judge(report, mistake.code, mistake.layer ?? n.model.layers.length);
        }
        return cells;
      },
    });
  }
  return out;
}
