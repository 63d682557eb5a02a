#!/usr/bin/env node
// Runs vitest with its default reporter for people and the JSON reporter for the
// closing line that CI reads: "N passed, N failed".
import { spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const report = join(tmpdir(), `smpp-bridge-vitest-${process.pid}.json`);
const args = [
  'vitest',
  'run',
  '--reporter=default',
  '--reporter=json',
  `--outputFile.json=${report}`,
  ...process.argv.slice(2),
];
const run = spawnSync('npx', args, { stdio: 'inherit' });

let passed = 0;
let failed = 0;
try {
  const json = JSON.parse(readFileSync(report, 'utf8'));
  passed = json.numPassedTests ?? 0;
  failed = json.numFailedTests ?? 0;
  // A file that fails to load fails no single test: count it so it is never silent.
  if ((json.numFailedTestSuites ?? 0) > 0 && failed === 0) failed = json.numFailedTestSuites;
  rmSync(report, { force: true });
} catch {
  failed = Math.max(failed, 1);
  console.error('could not read the vitest JSON report');
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(run.status === 0 && failed === 0 ? 0 : 1);
