// The detection matrix's loss-convention and data-mismatch entries (diagnose/conventions.ts): a
// user's backprop written for another convention of the cost (a factor ½ on the output gradient,
// a mean over the K outputs, the a − y delta with squared error), and correct backprop computed
// from data that data.csv holds rounded to three decimals. Columns are the dense architectures of
// tools/matrix.ts ("A".."E") and, for the mean over the outputs, the layer-kind ones with several
// outputs ("K1".."K10"). The a − y entry needs a loss without the a − y delta: there the
// architecture's layers and data get squared error (their own loss makes a − y right).
import { initialise } from '../../src/core/init.js';
import { categoryOf } from '../../src/core/diagnose/index.js';
import type { Model, Params } from '../../src/core/model.js';
import type { Report } from '../../src/core/report.js';
import type { Tensor } from '../../src/core/tensor.js';
import { parseSpec, withInputs } from '../../src/io/spec.js';
import {
  ARCHITECTURES, KIND_ARCHITECTURES, dataFor, judge, kindNet, runCheck, userBackprop, type Architecture, type Cell, type Injection,
} from '../matrix.js';
import type { ExplanationEntry } from './index.js';

interface Prepared { model: Model; params: Params; X: Tensor; Y: Tensor }

/** An architecture's network as detectionMatrix builds it (same inputs, weights and data), its spec changed by `change`. */
function prepare(arch: Architecture, i: number, change: Record<string, unknown> = {}): Prepared {
  const inputs = 3 + (i % 2);
  const loaded = parseSpec({ input: inputs, ...arch.spec, ...change }, 'matrix');
  const model = withInputs(loaded.model, inputs);
  return { model, params: initialise(model), ...dataFor(model, arch.samples, 100 + i) };
}

const label = (i: number) => String.fromCharCode(65 + i);

/**
 * Named: loss-convention at the output as the only root cause, or, where the catalogue names the
 * same gradients as its factor on the output delta (constant-factor, kept as the only root cause),
 * that finding saying the convention and its net.json line.
 */
function injected({ model, params, X, Y }: Prepared, bug: Injection): Cell {
  const grads = userBackprop(model, params, X, Y, bug);
  const report = runCheck(model, params, X, Y, { source: 'grads', grads }, null);
  const L = model.layers.length;
  const cell = judge(report, 'loss-convention', L);
  if (cell.detected) return cell;
  const factor = judge(report, 'constant-factor', L);
  const said = report.findings.some((f) => f.code === 'constant-factor' && typeof f.evidence?.spec === 'string' && f.evidence.spec !== '');
  return factor.detected && said ? { detected: true, note: 'constant-factor with the loss convention' } : cell;
}

/** ∂L/∂a of the net's loss times f: the output gradient of a cost f times net.json's. */
const scaledOutput = (model: Model, f: number): Injection => ({ at: model.layers.length, outputGradient: (_z, a, y) => f * model.loss.gradient(a, y) });

/** A mean over the K outputs: PyTorch's MSELoss() (2/K, no ½) with squared error, Keras's 1/K with cross-entropy. */
const outputsMean = (model: Model) => {
  const K = model.layers[model.layers.length - 1].units;
  return model.loss.name === 'mean_squared_error' ? 2 / K : 1 / K;
};
/** The mean over the outputs where it changes anything (2/K is 1 for two outputs of squared error). */
const meanApplies = (model: Model) => model.layers[model.layers.length - 1].units > 1 && outputsMean(model) !== 1;

/** Whether a report names data-mismatch as an error, with no root cause beside it. */
function judgeData(report: Report): Cell {
  const roots = report.findings.filter((f) => categoryOf(f.code) === 'root').map((f) => `${f.code}@${f.layer}`);
  if (report.ok) return { detected: false, note: 'the check passed' };
  const hit = report.findings.some((f) => f.code === 'data-mismatch' && f.severity === 'error');
  if (!hit) return { detected: false, note: `expected data-mismatch; found ${roots.join(', ') || 'nothing'}` };
  if (roots.length > 0) return { detected: false, note: `data-mismatch, but also ${roots.join(', ')}` };
  return { detected: true, note: 'data-mismatch' };
}

/** X as data.csv written with fmt="%.3f" holds it. */
const rounded = (X: Tensor, digits: number): Tensor => ({ ...X, data: X.data.map((v) => Math.round(v * 10 ** digits) / 10 ** digits) });

function dense(cell: (p: Prepared, arch: Architecture, i: number) => Cell | null): Record<string, Cell | null> {
  return Object.fromEntries(ARCHITECTURES.map((arch, i) => [label(i), cell(prepare(arch, i), arch, i)]));
}

export function entries(): ExplanationEntry[] {
  return [
    {
      id: 'half-output',
      name: '½ on the output gradient (every tensor ½)',
      code: 'loss-convention',
      cells: () => dense((p) => injected(p, scaledOutput(p.model, 0.5))),
    },
    {
      id: 'mean-over-outputs',
      name: 'a mean over the K outputs (MSELoss 2/K)',
      code: 'loss-convention',
      cells: () => {
        const cells = dense((p) => (meanApplies(p.model) ? injected(p, scaledOutput(p.model, outputsMean(p.model))) : null));
        KIND_ARCHITECTURES.forEach((arch, i) => {
          const net = kindNet(arch, i);
          cells[`K${i + 1}`] = meanApplies(net.model) ? injected(net, scaledOutput(net.model, outputsMean(net.model))) : null;
        });
        return cells;
      },
    },
    {
      id: 'a-y-with-mse',
      name: 'dZ = a − y with squared error',
      code: 'loss-convention',
      // Only where a − y is not squared error's own delta: a sigmoid or softmax output.
      cells: () => Object.fromEntries(ARCHITECTURES.map((arch, i) => {
        // The classifier's own labels (0/1, one-hot), with squared error as its cost.
        const p = { ...prepare(arch, i), model: prepare(arch, i, { loss: 'mean_squared_error' }).model };
        const act = p.model.layers[p.model.layers.length - 1].activation.name;
        return [label(i), act === 'sigmoid' || act === 'softmax' ? injected(p, { at: p.model.layers.length, outputDelta: (_z, a, y) => a - y }) : null];
      })),
    },
    {
      id: 'data-rounded',
      name: 'data.csv rounded to 3 decimals',
      code: 'data-mismatch',
      cells: () => dense(({ model, params, X, Y }) => {
        // The code's gradients are right, at the full-precision X; the tool reads X rounded.
        const grads = userBackprop(model, params, X, Y, null);
        const seen = rounded(X, 3);
        return judgeData(runCheck(model, params, seen, Y, { source: 'grads', grads }, null));
      }),
    },
  ];
}
