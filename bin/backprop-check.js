#!/usr/bin/env node
import { fileURLToPath } from 'node:url';
import { runCached } from '../dist/cli/code-cache.js';

// The command line is one bundled script, run with the V8 code cache the build made for it
// (src/cli/code-cache.ts): without a usable cache it is compiled as usual.
const bundle = fileURLToPath(new URL('../dist/cli/bundle.js', import.meta.url));
const { exitWhenWritten, handleOutputErrors, main } = runCached(bundle, `${bundle}.cache`).exports;

// A reader that stops early (backprop-check … | head) closes the pipe: that is not an error. Any
// other failure of stdout (a full disk) is one line on stderr and exit status 2 (src/cli/main.ts).
handleOutputErrors();

exitWhenWritten(await main(process.argv.slice(2)));
