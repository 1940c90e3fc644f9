#!/usr/bin/env node
import { handleOutputErrors, main } from '../dist/cli/bundle.js';

// A reader that stops early (backprop-check … | head) closes the pipe: that is not an error. Any
// other failure of stdout (a full disk) is one line on stderr and exit status 2 (src/cli/main.ts).
handleOutputErrors();

process.exitCode = await main(process.argv.slice(2));
