#!/usr/bin/env node
// Bundles the command line (dist/cli/main.js and everything it imports) into one file,
// dist/cli/bundle.js, which bin/backprop-check.js loads. Node resolves and links ~80 ES modules
// at every start otherwise: about 55 ms of a directional check's 0.5 s budget (npm run bench).
// Minified (compressed, local names mangled), which halves what V8 parses at start (~35 ms);
// function and class names are kept, so an internal error's stack still names the functions, and
// dist/cli/bundle.js.map maps it back (node --enable-source-maps).
//
// Left out of the bundle, and loaded from node_modules when needed:
// - mathjs, required lazily (core/formula.ts) and only by specs with formulas;
// - fflate, required lazily (io/npz.ts) and only for .npz files;
// - csv-parse, required lazily (io/data.ts) for CSV text that is not plain numbers and commas;
// - ajv's runtime helpers, required by the generated validator through createRequire;
// - dist/cli/row-worker.js, which worker threads load by URL next to the bundle.
// The library (dist/index.js) stays unbundled.
import { rolldown } from 'rolldown';

const root = new URL('../', import.meta.url);
const bundle = await rolldown({
  input: new URL('dist/cli/main.js', root).pathname,
  platform: 'node',
  external: [/^node:/, /^mathjs/, 'fflate', 'csv-parse/sync'],
  logLevel: 'warn',
});
await bundle.write({ file: new URL('dist/cli/bundle.js', root).pathname, format: 'esm', sourcemap: true, minify: { compress: true, mangle: { keepNames: true } } });
await bundle.close();
