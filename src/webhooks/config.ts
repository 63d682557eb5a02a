/**
 * Config `webhooks:`: where events go and how hard the sender tries. The schema (shape and bounds),
 * the rules the schema cannot say (secrets, URLs, duplicate ids, reserved headers), each reported
 * with its key's path, and the resolved form with every default filled in.
 *
 *   webhooks:
 *     endpoints:
 *       - id: crm
 *         url: https://crm.example.com/hooks/sms
 *         secret: whsec_…            # or a list, newest first, while rotating
 *         events: [message.received, message.delivered, message.undelivered]
 *         routes: [marketing]        # optional: only events of these routes
 *         headers: { x-tenant: acme } # optional: sent with every request
 *     allowCallbackUrl: true          # a message's callbackUrl gets its own status events
 *     allowPrivateCallbackUrls: false # callbacks to loopback/private/link-local are refused
 *     callbackSecret: whsec_…         # signs callback deliveries (unsigned without it)
 */
import { type Static, Type } from 'typebox';
import type { PathSegment } from '../config/config-path.js';
import type { PathIssue } from '../config/schema-issues.js';
import { SmppError } from '../errors.js';
import {
  STATUS_EVENT_TYPES,
  type StatusEventType,
  WEBHOOK_EVENT_TYPES,
  type WebhookEventType,
} from './events.js';
import { checkWebhookSecret } from './signing.js';

const strict = { additionalProperties: false } as const;

export const ENDPOINT_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;
/** Headers the sender sets itself: an endpoint's `headers` may not replace them. */
export const RESERVED_HEADERS: ReadonlySet<string> = new Set([
  'webhook-id',
  'webhook-timestamp',
  'webhook-signature',
  'content-type',
  'content-length',
  'host',
  'connection',
  'transfer-encoding',
]);
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const secretSchema = Type.Union([
  Type.String({ minLength: 1, expected: 'a whsec_ secret' }),
  Type.Array(Type.String({ minLength: 1 }), {
    minItems: 1,
    maxItems: 4,
    expected: 'a list of 1 to 4 whsec_ secrets',
  }),
]);

const durationMs = (minimum: number, maximum: number) =>
  Type.Integer({
    minimum,
    maximum,
    expected: `a whole number of milliseconds from ${minimum} to ${maximum}`,
  });

export const WebhookEndpointSchema = Type.Object(
  {
    id: Type.String({
      pattern: ENDPOINT_ID_PATTERN.source,
      expected: "an id of letters, digits, '_', '.' and '-' (at most 64, starting with a letter or digit)",
    }),
    url: Type.String({ minLength: 1, expected: 'an http or https URL' }),
    secret: secretSchema,
    events: Type.Array(Type.Union(WEBHOOK_EVENT_TYPES.map((type) => Type.Literal(type))), { minItems: 1 }),
    routes: Type.Optional(Type.Array(Type.String({ minLength: 1 }), { minItems: 1 })),
    headers: Type.Optional(Type.Record(Type.String(), Type.String())),
    /** Requests in flight to this endpoint at once. */
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
  },
  strict,
);

export const WebhooksSchema = Type.Object(
  {
    endpoints: Type.Optional(Type.Array(WebhookEndpointSchema)),
    allowCallbackUrl: Type.Optional(Type.Boolean()),
    allowPrivateCallbackUrls: Type.Optional(Type.Boolean()),
    callbackSecret: Type.Optional(secretSchema),
    /** Requests in flight to callback URLs at once (all callback URLs together). */
    callbackConcurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
    /** An attempt without a response within this is a timeout (retried). */
    timeoutMs: Type.Optional(durationMs(100, 120_000)),
    /** Default requests in flight per endpoint. */
    concurrency: Type.Optional(Type.Integer({ minimum: 1, maximum: 1024 })),
    /** How often the sender looks for due events when nothing woke it. */
    pollIntervalMs: Type.Optional(durationMs(10, 60_000)),
  },
  strict,
);
export type WebhooksInput = Static<typeof WebhooksSchema>;

export interface WebhookEndpointConfig {
  id: string;
  url: string;
  /** Newest first; every one signs (rotation). */
  secrets: string[];
  events: WebhookEventType[];
  /** null = every route. */
  routes: string[] | null;
  headers: Record<string, string>;
  concurrency: number;
}

export interface WebhooksConfig {
  endpoints: WebhookEndpointConfig[];
  allowCallbackUrl: boolean;
  allowPrivateCallbackUrls: boolean;
  /** Empty: callback deliveries are not signed. */
  callbackSecrets: string[];
  /** The status events a callbackUrl receives. */
  callbackEvents: StatusEventType[];
  callbackConcurrency: number;
  timeoutMs: number;
  concurrency: number;
  pollIntervalMs: number;
}

export const DEFAULT_WEBHOOKS: WebhooksConfig = Object.freeze({
  endpoints: [],
  allowCallbackUrl: true,
  allowPrivateCallbackUrls: false,
  callbackSecrets: [],
  callbackEvents: [...STATUS_EVENT_TYPES],
  callbackConcurrency: 32,
  timeoutMs: 15_000,
  concurrency: 16,
  pollIntervalMs: 1_000,
}) as WebhooksConfig;

const secretList = (secret: string | string[] | undefined): string[] =>
  secret === undefined ? [] : typeof secret === 'string' ? [secret] : [...secret];

/** The validated section with every default (call after the schema and webhookConfigIssues passed). */
export function resolveWebhooks(input: WebhooksInput | undefined): WebhooksConfig {
  const concurrency = input?.concurrency ?? DEFAULT_WEBHOOKS.concurrency;
  return {
    ...DEFAULT_WEBHOOKS,
    callbackEvents: [...DEFAULT_WEBHOOKS.callbackEvents],
    ...(input?.allowCallbackUrl === undefined ? {} : { allowCallbackUrl: input.allowCallbackUrl }),
    ...(input?.allowPrivateCallbackUrls === undefined
      ? {}
      : { allowPrivateCallbackUrls: input.allowPrivateCallbackUrls }),
    ...(input?.callbackConcurrency === undefined ? {} : { callbackConcurrency: input.callbackConcurrency }),
    ...(input?.timeoutMs === undefined ? {} : { timeoutMs: input.timeoutMs }),
    ...(input?.pollIntervalMs === undefined ? {} : { pollIntervalMs: input.pollIntervalMs }),
    concurrency,
    callbackSecrets: secretList(input?.callbackSecret),
    endpoints: (input?.endpoints ?? []).map((e) => ({
      id: e.id,
      url: e.url,
      secrets: secretList(e.secret),
      events: [...new Set(e.events)] as WebhookEventType[],
      routes: e.routes === undefined ? null : [...new Set(e.routes)],
      headers: { ...e.headers },
      concurrency: e.concurrency ?? concurrency,
    })),
  };
}

type Tree = Record<string, unknown>;
const isTree = (value: unknown): value is Tree =>
  value !== null && typeof value === 'object' && !Array.isArray(value);

/** Why `url` cannot be an endpoint's URL, or undefined when it can. */
export function endpointUrlProblem(url: string): string | undefined {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'must be an absolute http or https URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    return `must be http or https, not ${parsed.protocol.slice(0, -1)}`;
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return 'must not contain a user name or password (they would end up in logs); use headers';
  }
  return undefined;
}

function checkSecrets(value: unknown, path: PathSegment[], issues: PathIssue[]): void {
  const list = typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  list.forEach((secret, i) => {
    if (typeof secret !== 'string') return;
    try {
      checkWebhookSecret(secret);
    } catch (error) {
      const at = Array.isArray(value) ? [...path, i] : path;
      const why = error instanceof SmppError ? error.message.replace(/^secret /, '') : 'is not valid';
      issues.push({ path: at, message: why });
    }
  });
}

/** The rules of `webhooks:` that the schema cannot say, each with its key's path. Runs on the raw tree. */
export function webhookConfigIssues(root: unknown): PathIssue[] {
  if (!isTree(root) || !isTree(root.webhooks)) return [];
  const webhooks = root.webhooks;
  const issues: PathIssue[] = [];
  checkSecrets(webhooks.callbackSecret, ['webhooks', 'callbackSecret'], issues);
  const endpoints = Array.isArray(webhooks.endpoints) ? webhooks.endpoints : [];
  const firstIndex = new Map<string, number>();
  endpoints.forEach((endpoint, index) => {
    if (!isTree(endpoint)) return;
    const path: PathSegment[] = ['webhooks', 'endpoints', index];
    if (typeof endpoint.id === 'string') {
      const first = firstIndex.get(endpoint.id);
      if (first === undefined) firstIndex.set(endpoint.id, index);
      else
        issues.push({
          path: [...path, 'id'],
          message: `duplicate id "${endpoint.id}": webhooks.endpoints[${first}] has it too`,
        });
    }
    if (typeof endpoint.url === 'string') {
      const problem = endpointUrlProblem(endpoint.url);
      if (problem !== undefined) issues.push({ path: [...path, 'url'], message: problem });
    }
    checkSecrets(endpoint.secret, [...path, 'secret'], issues);
    if (isTree(endpoint.headers)) {
      for (const name of Object.keys(endpoint.headers)) {
        if (!HEADER_NAME.test(name)) {
          issues.push({ path: [...path, 'headers', name], message: 'is not a valid header name' });
        } else if (RESERVED_HEADERS.has(name.toLowerCase())) {
          issues.push({
            path: [...path, 'headers', name],
            message: 'is set by the sender and cannot be replaced',
          });
        }
      }
    }
  });
  return issues;
}
