/**
 * Reads the PEM files a bind's `tls` names (ca, cert, key) at load time, so a wrong path
 * stops the start with the key that names it instead of failing every connect later.
 * Relative paths are relative to the config file's directory.
 */
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { PathSegment } from './config-path.js';
import type { PathIssue } from './schema-issues.js';

export const TLS_FILE_KEYS = ['ca', 'cert', 'key'] as const;
export type TlsFileKey = (typeof TLS_FILE_KEYS)[number];
export type TlsFileContents = Partial<Record<TlsFileKey, string>>;

const PEM_BEGIN = '-----BEGIN ';

export interface TlsFilesResult {
  /** PEM text by bind index, for the binds whose TLS is enabled and names files. */
  byBind: Map<number, TlsFileContents>;
  issues: PathIssue[];
}

export function readTlsFiles(binds: unknown, baseDir: string): TlsFilesResult {
  const result: TlsFilesResult = { byBind: new Map(), issues: [] };
  if (!Array.isArray(binds)) return result;
  binds.forEach((bind: unknown, index) => {
    const tls = (bind as { tls?: unknown } | null)?.tls;
    if (tls === null || typeof tls !== 'object' || (tls as { enabled?: unknown }).enabled === false) return;
    const contents: TlsFileContents = {};
    for (const key of TLS_FILE_KEYS) {
      const file = (tls as Record<string, unknown>)[key];
      if (typeof file !== 'string' || file === '') continue;
      const text = readPem(file, baseDir, ['binds', index, 'tls', key], result.issues);
      if (text !== undefined) contents[key] = text;
    }
    result.byBind.set(index, contents);
  });
  return result;
}

function readPem(
  file: string,
  baseDir: string,
  path: PathSegment[],
  issues: PathIssue[],
): string | undefined {
  const absolute = resolve(baseDir, file);
  let text: string;
  try {
    text = readFileSync(absolute, 'utf8');
  } catch (error) {
    const reason =
      (error as NodeJS.ErrnoException).code ?? (error instanceof Error ? error.message : String(error));
    issues.push({ path, message: `cannot read "${file}" (${absolute}): ${describeFsError(reason)}` });
    return undefined;
  }
  if (!text.includes(PEM_BEGIN)) {
    issues.push({ path, message: `"${file}" (${absolute}) is not a PEM file (no "${PEM_BEGIN}..." line)` });
    return undefined;
  }
  return text;
}

function describeFsError(code: string): string {
  switch (code) {
    case 'ENOENT':
      return 'no such file';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'is a directory';
    default:
      return code;
  }
}
