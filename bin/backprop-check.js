#!/usr/bin/env node
import { main } from '../dist/cli.bundle.js';

// A reader that stops early (backprop-check … | head) closes the pipe: that is not an error.
process.stdout.on('error', (e) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(process.exitCode ?? 0);
});

process.exitCode = await main(process.argv.slice(2));
