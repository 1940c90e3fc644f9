// TEMPORARY (helper "session"): a minimal check of a CostProgram, only to drive the session client's
// wiring and tests on this branch. Helper "numerics" owns this file; at the merge the lead takes
// numerics' version (per-tensor steps, floors, kinks, determinism, float32) and drops this one.
//
// Full and sample modes: the central difference ĝᵢ = (J(θ + hᵢeᵢ) − J(θ − hᵢeᵢ)) / 2hᵢ with
// hᵢ = ε·max(1, |θᵢ|); directional mode: (J(θ + hd) − J(θ − hd)) / 2h against g·d along seeded unit
// directions d. Each tensor passes when ‖g − ĝ‖₂ / (‖g‖₂ + ‖ĝ‖₂) is below the tolerance.
import type { CostProgram, CostRequest } from '../session/program.js';
import type { Report, TensorCheck } from '../report.js';
import { indexOf, size } from '../tensor.js';
import { Random } from '../random.js';
import { compare, statusOf, worstOf } from './compare.js';
import type { CheckOptions } from './check.js';

export interface ProgramCheckOptions extends CheckOptions {
  sweep?: boolean;
  maxEvaluations?: number;
}

export async function checkProgram(program: CostProgram, options: ProgramCheckOptions): Promise<Report> {
  const grads = await program.grads();
  const loss = await program.cost();
  const random = new Random(options.seed);
  const layerOf = new Map<string, number>();
  (program.layers ?? program.params.map((p) => [p.name])).forEach((group, l) => { for (const name of group) layerOf.set(name, l + 1); });
  const checks: TensorCheck[] = [];
  let partial = false;
  const total = program.params.reduce((s, p) => s + planned(size(p.value.shape), options), 0);
  let done = 0;
  for (const { name, value } of program.params) {
    const n = size(value.shape);
    const k = planned(n, options);
    if (options.shouldStop?.()) { partial = true; break; }
    const g = grads.get(name)!.data;
    const analytic = new Float64Array(k), numeric = new Float64Array(k), steps = new Float64Array(k);
    const requests: CostRequest[] = [];
    const picks: number[] = [];
    if (options.mode === 'directional') {
      for (let j = 0; j < k; j++) {
        const d = random.fillNormal(new Float64Array(n));
        let norm = 0;
        for (let i = 0; i < n; i++) norm += d[i] * d[i];
        norm = Math.sqrt(norm);
        let gd = 0;
        for (let i = 0; i < n; i++) { d[i] /= norm; gd += g[i] * d[i]; }
        analytic[j] = gd;
        steps[j] = options.epsilon;
        const direction = { shape: value.shape.slice(), data: d };
        requests.push({ param: name, direction, scale: options.epsilon }, { param: name, direction, scale: -options.epsilon });
        picks.push(j);
      }
    } else {
      const chosen = k === n ? Array.from({ length: n }, (_, i) => i) : sample(n, k, random);
      for (let j = 0; j < k; j++) {
        const i = chosen[j];
        const h = options.fixedStep ? options.epsilon : options.epsilon * Math.max(1, Math.abs(value.data[i]));
        steps[j] = h;
        analytic[j] = g[i];
        const index = indexOf(i, value.shape);
        requests.push({ param: name, index, delta: h }, { param: name, index, delta: -h });
        picks.push(i);
      }
    }
    const costs = await program.costs(requests);
    for (let j = 0; j < k; j++) numeric[j] = (costs[2 * j] - costs[2 * j + 1]) / (2 * steps[j]);
    done += k;
    options.onProgress?.(done, total);
    const c = compare(analytic, numeric);
    checks.push({
      layer: layerOf.get(name) ?? 1, param: name, shape: value.shape.slice(),
      relativeError: c.relativeError, maxElementError: c.maxElementError,
      worst: worstOf(c, (j) => (options.mode === 'directional' ? [picks[j]] : indexOf(picks[j], value.shape)), analytic, numeric),
      analyticNorm: c.analyticNorm, numericNorm: c.numericNorm, checked: k, kinks: 0,
      status: statusOf(c.relativeError, options.tolerance), epsilon: options.epsilon,
    });
  }
  return {
    ok: !partial && checks.every((c) => c.status !== 'fail'),
    loss, source: 'exec', checks, findings: [], health: { layers: [] },
    settings: { epsilon: options.epsilon, tolerance: options.tolerance, mode: options.mode, seed: options.seed, ...(options.mode === 'full' ? {} : { samples: options.samples }) },
    ...(partial ? { partial: true } : {}),
  };
}

function planned(n: number, options: CheckOptions): number {
  return options.mode === 'full' ? n : options.mode === 'sample' ? Math.min(n, options.samples) : options.samples;
}

/** k distinct flat indices of n, seeded (a partial Fisher–Yates shuffle), in increasing order. */
function sample(n: number, k: number, random: Random): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(random.uniform() * (n - i));
    [all[i], all[j]] = [all[j], all[i]];
  }
  return all.slice(0, k).sort((a, b) => a - b);
}
