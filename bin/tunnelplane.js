#!/usr/bin/env node
import { main } from '../dist/src/cli/main.js';

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (err) => {
    process.stderr.write(`tunnelplane: ${err && err.message ? err.message : String(err)}\n`);
    if (process.env.TUNNELPLANE_DEBUG) process.stderr.write(`${err && err.stack}\n`);
    process.exitCode = 2;
  },
);
