/**
 * `npm run openapi:generate` writes openapi/openapi.yaml from the routes; `npm run openapi:check`
 * exits 1 when the committed file differs from a fresh generation.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { firstDifference, OPENAPI_YAML_PATH, renderOpenApiYaml } from './openapi.js';

async function main(command: string | undefined): Promise<number> {
  const fresh = await renderOpenApiYaml();
  if (command === 'generate') {
    writeFileSync(OPENAPI_YAML_PATH, fresh);
    console.log(`wrote ${OPENAPI_YAML_PATH}`);
    return 0;
  }
  if (command === 'check') {
    let committed: string;
    try {
      committed = readFileSync(OPENAPI_YAML_PATH, 'utf8');
    } catch {
      console.error(`${OPENAPI_YAML_PATH} is missing; run: npm run openapi:generate`);
      return 1;
    }
    const diff = firstDifference(fresh, committed);
    if (diff === null) {
      console.log('openapi/openapi.yaml is up to date');
      return 0;
    }
    console.error(
      [
        'openapi/openapi.yaml differs from the routes (drift).',
        `first difference at line ${diff.line}:`,
        `  generated: ${diff.expected}`,
        `  committed: ${diff.actual}`,
        'run: npm run openapi:generate, and commit the file',
      ].join('\n'),
    );
    return 1;
  }
  console.error('usage: openapi-cli generate|check');
  return 2;
}

process.exitCode = await main(process.argv[2]);
