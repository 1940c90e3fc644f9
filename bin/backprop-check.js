#!/usr/bin/env node
// A CommonJS script (bin/package.json): Node starts it without setting up its ES module loader,
// about 12 ms of a 0.2 s run on the bench's machine.
'use strict';
const { join } = require('node:path');
const { runCached } = require('../dist/cli/code-cache.cjs');

// The command line is one bundled script, run with the V8 code cache the build made for it
// (src/cli/code-cache.ts): without a usable cache it is compiled as usual.
const bundle = join(__dirname, '../dist/cli/bundle.js');
const { exitWhenWritten, handleOutputErrors, main } = runCached(bundle, `${bundle}.cache`).exports;

// A reader that stops early (backprop-check … | head) closes the pipe: that is not an error. Any
// other failure of stdout (a full disk) is one line on stderr and exit status 2 (src/cli/main.ts).
handleOutputErrors();

main(process.argv.slice(2)).then(exitWhenWritten);
