#!/usr/bin/env node
// Bundles the command line (dist/cli/main.js and everything it imports) into one file,
// dist/cli/bundle.js, which bin/backprop-check.js runs. Node resolves and links ~80 ES modules
// at every start otherwise: about 55 ms of a directional check's 0.5 s budget (npm run bench).
// Minified (compressed, local names mangled), which halves what V8 parses at start (~35 ms);
// function and class names are kept, so an internal error's stack still names the functions, and
// dist/cli/bundle.js.map maps it back (node --enable-source-maps).
//
// The bundle is a CommonJS script, not an ES module (though it ends in .js): the bin runs it
// through node:vm with a V8 code cache (src/cli/code-cache.ts), which Node 20 offers for scripts
// only. The cache is made here, after a sample run of two fixtures, so that it holds the bytecode
// of every function a check compiles: dist/cli/bundle.js.cache.
//
// mathjs, for formulas only, is bundled separately and tree-shaken to the factories formulas use
// (src/cli/mathjs-slim.ts → dist/cli/mathjs.cjs, with its own cache after a sample of formulas),
// and loaded on first use.
//
// Left out of the bundle, and loaded from node_modules when needed:
// - fflate, required lazily (io/npz.ts) and only for .npz files;
// - csv-parse, required lazily (io/data.ts) for CSV text that is not plain numbers and commas;
// - ajv's runtime helpers, required by the generated validator through createRequire;
// - dist/cli/row-worker.js, which worker threads load by URL next to the bundle.
// The library (dist/index.js) stays unbundled, and loads mathjs's own single-file build.
//
// dist/cli/bundle.js is written last: build-if-stale.mjs takes a build that stopped before it
// as unfinished.
import { writeFileSync } from 'node:fs';
import { Writable } from 'node:stream';
import { rolldown } from 'rolldown';
import { makeCache, runCached } from '../dist/cli/code-cache.js';

const root = new URL('../', import.meta.url);
const path = (p) => new URL(p, root).pathname;
const minify = { compress: true, mangle: { keepNames: true } };
/** What the library and the command line load from node_modules or Node itself (see above). */
const EXTERNAL = [/^node:/, /^mathjs/, 'fflate', 'csv-parse/sync'];

/** One entry bundled into one CommonJS file's code (and its source map). */
async function bundleOf(input, name, external, options = {}) {
  const bundle = await rolldown({ input: path(input), platform: 'node', external, logLevel: 'warn' });
  // strict: the sources are ES modules, which are strict mode; a CommonJS file is only when it says so.
  const { output } = await bundle.generate({ format: 'cjs', strict: true, charset: 'ascii', entryFileNames: name, minify, ...options });
  await bundle.close();
  return output[0];
}

/** Formulas like those of the fixtures: each is parsed, differentiated and simplified once. */
const SAMPLE_FORMULAS = ['-(y / a - (1 - y) / (1 - a))', 'a * (1 - a)', '1 - a^2', 'log(1 + exp(z)) * tanh(z)', 'log(cosh(a - y))', 'abs(z) / 2 + sqrt(1 + z^2)'];

const mathjsFile = path('dist/cli/mathjs.cjs');
const mathjs = await bundleOf('dist/cli/mathjs-slim.js', 'mathjs.cjs', []);
writeFileSync(mathjsFile, mathjs.code);
{
  const loaded = runCached(mathjsFile, `${mathjsFile}.cache`);
  const math = loaded.exports.slimMathjs();
  for (const f of SAMPLE_FORMULAS) {
    const node = math.parse(f);
    for (const v of ['z', 'a']) {
      const d = math.derivative(node, v, { simplify: false });
      math.simplify(d).toString();
      math.simplifyCore(math.simplifyConstant(math.simplifyCore(d))).toString();
    }
  }
  makeCache(loaded, `${mathjsFile}.cache`);
}

// The bin is CommonJS (bin/package.json says so), which Node starts about 12 ms sooner than an ES
// module on the bench's machine: it sets up no ES module loader. It takes runCached from this
// CommonJS copy of dist/cli/code-cache.js.
const codeCache = await bundleOf('dist/cli/code-cache.js', 'code-cache.cjs', [/^node:/]);
writeFileSync(path('dist/cli/code-cache.cjs'), codeCache.code);

// The library (dist/index.js and what it imports) the same way: one CommonJS script,
// dist/cli/library.cjs (next to the command line's bundle, so that the URLs it resolves from its
// own place, such as the row worker's, are the same), and its code cache after a sample run of the
// library's checks; dist/library.mjs, the package's entry, runs it with the cache and exports its
// exports. An import then links two ES modules instead of ~100, and the first check does not
// compile the functions it calls (V8 compiles a function the first time it runs; the cache holds
// their bytecode, as Python's .pyc files hold torch's).
const libraryFile = path('dist/cli/library.cjs');
const library = await bundleOf('dist/index.js', 'library.cjs', EXTERNAL, {
  postBanner: '// The library, bundled by scripts/bundle.mjs: a CommonJS script that dist/library.mjs runs with its code cache (src/cli/code-cache.ts).',
});
writeFileSync(libraryFile, library.code);
{
  const loaded = runCached(libraryFile, `${libraryFile}.cache`);
  const lib = loaded.exports;
  // check() loads the files and runs checkNetworkAsync, so this compiles what a program's own
  // load, gradientSource and checkNetworkAsync call as well.
  for (const fixture of ['seed', 'xor']) {
    for (const mode of ['full', 'directional']) await lib.check({ net: path(`fixtures/${fixture}/net.json`), data: path(`fixtures/${fixture}/data.csv`), mode });
  }
  makeCache(loaded, `${libraryFile}.cache`);
  const names = Object.keys(lib).sort();
  writeFileSync(path('dist/library.mjs'), [
    '// Generated by scripts/bundle.mjs: the package\'s entry. The library is dist/cli/library.cjs (all of',
    '// dist/index.js in one script), run with the V8 code cache the build made for it.',
    "import { fileURLToPath } from 'node:url';",
    "import { runCached } from './cli/code-cache.js';",
    '',
    "const file = fileURLToPath(new URL('./cli/library.cjs', import.meta.url));",
    'const library = runCached(file, `${file}.cache`).exports;',
    '',
    `export const { ${names.join(', ')} } = library;`,
    '',
  ].join('\n'));
}

const bundleFile = path('dist/cli/bundle.js');
const cli = await bundleOf('dist/cli/main.js', 'bundle.js', EXTERNAL, {
  sourcemap: true,
  postBanner: '// The command line, bundled by scripts/bundle.mjs: a CommonJS script that bin/backprop-check.js runs with its code cache (src/cli/code-cache.ts).',
});
const code = cli.code;
{
  // The sample run: the seed fixture (formulas, a failing check, the diagnosis) and xor (a passing
  // tanh/sigmoid check), their output discarded.
  const loaded = runCached(bundleFile, `${bundleFile}.cache`, Buffer.from(code));
  const discard = () => Object.assign(new Writable({ write: (_chunk, _encoding, done) => done() }), { isTTY: false });
  for (const fixture of ['seed', 'xor']) {
    await loaded.exports.main([path(`fixtures/${fixture}/net.json`), path(`fixtures/${fixture}/data.csv`)], discard(), discard());
  }
  makeCache(loaded, `${bundleFile}.cache`);
}
writeFileSync(`${bundleFile}.map`, cli.map.toString());
writeFileSync(bundleFile, code);
