// The part of mathjs that formulas use (core/formula/formula.ts), for the command line: parse,
// derivative, simplify and its steps, and every function a validated formula or its derivative
// can hold, each with the factories it depends on. scripts/bundle.mjs bundles this file on its
// own, tree-shaken, into dist/cli/mathjs.cjs (0.4 MB where lib/browser/math.js is 1.6 MB), which
// the command line loads on first use (cli/formula-engine.ts).
//
// Left out: mathjs's Unit class and what needs it. The symbol nodes would ask it whether a name
// is a unit ("cm"), but only when they are evaluated or written as TeX, which formula.ts never
// does; building its unit tables is most of the cost of a first parse (~25 ms). Everything else
// comes from the same factories as create(all), so parse trees, derivatives and simplified texts
// are the same (test/mathjs-slim.test.ts compares them with the full build on many formulas).
import {
  absDependencies, addDependencies, coshDependencies, create, cubeDependencies, derivativeDependencies, divideDependencies,
  eDependencies, expDependencies, expm1Dependencies, log1pDependencies, logDependencies, maxDependencies, minDependencies,
  multiplyDependencies, parseDependencies, piDependencies, powDependencies, sechDependencies, signDependencies,
  simplifyConstantDependencies, simplifyCoreDependencies, simplifyDependencies, sinhDependencies, sqrtDependencies,
  squareDependencies, subtractDependencies, tanhDependencies, unaryMinusDependencies, unaryPlusDependencies,
  type FactoryFunctionMap, type MathJsInstance,
} from 'mathjs';

/** What formula.ts calls, and the functions and constants a formula or a derivative of one may name. */
const USED = {
  parseDependencies, derivativeDependencies, simplifyDependencies, simplifyCoreDependencies, simplifyConstantDependencies,
  expDependencies, logDependencies, log1pDependencies, expm1Dependencies, tanhDependencies, sinhDependencies,
  coshDependencies, sqrtDependencies, absDependencies, signDependencies, maxDependencies, minDependencies,
  sechDependencies, squareDependencies, cubeDependencies, addDependencies, subtractDependencies, multiplyDependencies,
  divideDependencies, powDependencies, unaryMinusDependencies, unaryPlusDependencies, eDependencies, piDependencies,
};

/** The names of the functions USED provides, for the test that holds them to formula.ts's lists. */
export const SLIM_FUNCTIONS = Object.keys(USED).map((k) => k.replace(/Dependencies$/, ''));

type Group = { [name: string]: Group | FactoryFunctionMap[string] };

/**
 * The factories of nested *Dependencies objects, flattened, without Unit (and so without what
 * needs it). Each object holds the objects of its dependencies, so the same ones recur on many
 * paths: each is walked once.
 */
function factories(group: Group, out: Record<string, unknown> = {}, seen = new Set<Group>()): Record<string, unknown> {
  seen.add(group);
  for (const [name, value] of Object.entries(group)) {
    if (typeof value !== 'function') {
      if (!seen.has(value as Group)) factories(value as Group, out, seen);
    } else if ((value as { fn?: string }).fn !== 'Unit') out[name] = value;
  }
  return out;
}

/** A mathjs instance with only these factories (each still built lazily, on first use). */
export function slimMathjs(): MathJsInstance {
  return create(factories(USED as unknown as Group) as FactoryFunctionMap);
}
