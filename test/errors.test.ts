/**
 * The one error registry and its documentation: every code the project can raise is registered in
 * src/errors.ts, and docs/errors.md and the README list every code a client or operator can see —
 * SMPP_ERR_* (health model lastError, logs) and the HTTP codes. Fails when a code is added, raised
 * or made HTTP-mappable without a line in the docs.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ErrorCode, isErrorCode, SmppError } from '../src/errors.js';
import { HTTP_ERRORS } from '../src/http/errors.js';
import { HEALTH_CODES } from '../src/http/schemas/bind.js';

const root = new URL('../', import.meta.url).pathname;
const read = (path: string): string => readFileSync(join(root, path), 'utf8');

function sources(dir: string): string[] {
  return readdirSync(join(root, dir)).flatMap((name) => {
    const path = join(dir, name);
    return statSync(join(root, path)).isDirectory() ? sources(path) : path.endsWith('.ts') ? [path] : [];
  });
}

describe('the error registry', () => {
  it('registers every SMPP_ERR_* code the source spells out', () => {
    const spelled = new Set<string>();
    for (const file of sources('src')) {
      for (const m of read(file).matchAll(/['"`](SMPP_ERR_[A-Z0-9_]+)['"`]/g)) spelled.add(m[1]!);
    }
    expect(spelled.size).toBeGreaterThan(10);
    expect([...spelled].filter((code) => !isErrorCode(code))).toEqual([]);
  });

  it('has unique codes in the SMPP_ERR_<AREA>_<WHAT> form', () => {
    const codes = Object.values(ErrorCode);
    expect(new Set(codes).size).toBe(codes.length);
    for (const code of codes) expect(code).toMatch(/^SMPP_ERR_[A-Z0-9]+(_[A-Z0-9]+)*$/);
    expect(isErrorCode('ECONNREFUSED')).toBe(false);
    expect(new SmppError(ErrorCode.Config, 'x').code).toBe('SMPP_ERR_CONFIG');
  });

  it('docs/errors.md lists every registered SMPP_ERR_* code', () => {
    const doc = read('docs/errors.md');
    const listed = new Set([...doc.matchAll(/^\| `(SMPP_ERR_[A-Z0-9_]+)` \|/gm)].map((m) => m[1]!));
    expect(Object.values(ErrorCode).filter((code) => !listed.has(code))).toEqual([]);
    expect([...listed].filter((code) => !isErrorCode(code))).toEqual([]);
  });

  it('docs/errors.md maps every HTTP-mappable SMPP code the mapping handles', () => {
    const mapping = read('src/http/errors.ts');
    const handled = [...mapping.matchAll(/case ErrorCode\.([A-Za-z]+):/g)].map(
      (m) => ErrorCode[m[1] as keyof typeof ErrorCode],
    );
    expect(handled.length).toBeGreaterThan(5);
    const doc = read('docs/errors.md');
    const section = doc.slice(doc.indexOf('| SMPP error | HTTP code |'));
    for (const code of handled) expect(section, code).toContain(`\`${code}\``);
  });

  it('the README names every HTTP error code with its status, and every health code', () => {
    const readme = read('README.md');
    for (const [code, { status }] of Object.entries(HTTP_ERRORS)) {
      expect(readme, code).toContain(`\`${code}\` (${status})`);
    }
    const healthRows = new Set([...readme.matchAll(/^\| [a-z]+ \| `([A-Z_]+)` \|/gm)].map((m) => m[1]!));
    expect([...healthRows].sort()).toEqual([...HEALTH_CODES].sort());
  });
});
