/**
 * Validation shared by the simulator's inputs (API calls, the HTTP control API, the YAML file):
 * a TypeBox schema run through the config layer's error wording, so every problem comes back
 * with its key path (`faults[2].ms: expected an integer from 0 to 2147483647, got -5`).
 */
import type { TSchema } from 'typebox';
import { Type } from 'typebox';
import { formatPath, type PathSegment } from '../config/config-path.js';
import { schemaIssues } from '../config/schema-issues.js';
import { CommandStatus, type CommandStatusName } from '../protocol/command-status.js';
import type { SimIssue } from './errors.js';

export const strict = { additionalProperties: false } as const;

export function issuesOf(schema: TSchema, value: unknown, at: readonly PathSegment[] = []): SimIssue[] {
  return schemaIssues(schema, value).map((issue) => ({
    path: formatPath([...at, ...issue.path]),
    message: issue.message,
  }));
}

export function pathOf(at: readonly PathSegment[]): string {
  return formatPath(at);
}

/** A command_status: a number, or its name (`ESME_RTHROTTLED`) in files and HTTP bodies. */
export const StatusSchema = Type.Union(
  [
    Type.Integer({ minimum: 0, maximum: 0xffffffff }),
    Type.String({ pattern: '^[A-Z][A-Z0-9_]*$', expected: 'a command_status name such as ESME_RTHROTTLED' }),
  ],
  { expected: 'a command_status: an integer (0x58 = 88) or a name such as ESME_RTHROTTLED' },
);

/** The code of a status value that passed StatusSchema; undefined for an unknown name. */
export function statusCode(value: number | string): number | undefined {
  if (typeof value === 'number') return value;
  return Object.hasOwn(CommandStatus, value) ? CommandStatus[value as CommandStatusName] : undefined;
}

/** `faults[2].scope.systemId` → ['faults', 2, 'scope', 'systemId'] (to find its line). */
export function segmentsOf(path: string): PathSegment[] {
  const out: PathSegment[] = [];
  for (const m of path.matchAll(/([A-Za-z_$][\w$]*)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]/g)) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[3] !== undefined) out.push(JSON.parse(m[3]) as string);
  }
  return out;
}
