// mathjs for the command line's formulas: the slim build that npm run build puts next to the
// bundle (dist/cli/mathjs.cjs, from cli/mathjs-slim.ts), run with its code cache (cli/code-cache.ts).
// Run from src/ (the tests), there is no such file, and formula.ts loads mathjs's full build itself.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { MathJsInstance } from 'mathjs';
import { useMathjs } from '../core/formula/formula.js';
import { runCached } from './code-cache.js';

export function useSlimMathjs(): void {
  const file = fileURLToPath(new URL('./mathjs.cjs', import.meta.url));
  if (!existsSync(file)) return;
  useMathjs(() => runCached<{ slimMathjs(): MathJsInstance }>(file, `${file}.cache`).exports.slimMathjs());
}
