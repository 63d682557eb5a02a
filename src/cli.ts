#!/usr/bin/env node
/**
 * The `smpp-bridge` bin (dist/cli.js): runs the command (src/cli/index.ts) and makes its result
 * the exit code. Commands that keep running (serve, simulator) resolve only when they are done.
 */
import { runCli } from './cli/index.js';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  },
);
