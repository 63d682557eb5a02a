#!/usr/bin/env node
// npm run bench -- <name> [args]: runs bench/<name>/index.ts with tsx. Without a name, lists them.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const [name, ...rest] = process.argv.slice(2);
const names = readdirSync('bench', { withFileTypes: true })
  .filter((d) => d.isDirectory() && existsSync(`bench/${d.name}/index.ts`))
  .map((d) => d.name);
if (!name || !names.includes(name)) {
  console.error(`usage: npm run bench -- <${names.join('|')}> [args]`);
  process.exit(name ? 2 : 0);
}
const run = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--expose-gc', `bench/${name}/index.ts`, ...rest],
  {
    stdio: 'inherit',
  },
);
process.exit(run.status ?? 1);
