/**
 * From a send request to what the store keeps: the plan (src/bridge/plan-message.ts), the route
 * (src/bridge/routing.ts), the callback URL check (src/webhooks/url-policy.ts) and the message with
 * its parts, or the API error that refuses it. Nothing here writes: the route handler commits.
 *
 * What the store keeps for the outbound dispatcher to rebuild each submit_sm:
 *   message.encoding   gsm7 | latin1 | ucs2 | binary  (data_coding 0x00, 0x03, 0x08, 0x04)
 *   message.body       the whole content in that encoding, without any UDH
 *   message.udh        the caller's own UDH (binary.udhHex), else null
 *   part.payload       each part's short_message exactly as it goes on the wire (with its UDH:
 *                      esm_class UDHI is set when the payload carries one, i.e. the message has more
 *                      than one part or a caller UDH)
 *   receiptPolicy, validityMs, sendAt: registered_delivery on every part, the relative validity_period
 */
import { randomInt } from 'node:crypto';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import { type PlanError, planMessage, type SendRequest } from '../bridge/plan-message.js';
import { type RouteTable, selectRoute } from '../bridge/routing.js';
import { EsmClass } from '../protocol/constants.js';
import type { NewMessage, NewPart } from '../store/store.js';
import { createTimeOrderedIdGenerator } from '../store/time-ordered-id.js';
import { checkCallbackUrl, DEFAULT_URL_POLICY, type UrlPolicy } from '../webhooks/url-policy.js';
import { fromSmppError, HttpApiError } from './errors.js';
import type { SendMessageBody } from './schemas/messages.js';

/** Message ids: time-ordered, so new rows append to the store's indexes (src/store/time-ordered-id.ts). */
const nextMessageId = createTimeOrderedIdGenerator();

/** The addresses a host name resolves to (DNS); injected by tests. */
export type ResolveHost = (host: string) => Promise<string[]>;

export const resolveWithDns: ResolveHost = async (host) =>
  (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

/**
 * Callback hosts resolved for the URL policy, shared by every request for `ttlMs` (a failed lookup
 * for `failedTtlMs`), at most `maxHosts` (the oldest go first): a client that names the same host
 * on every message costs one lookup a minute, not one per POST in libuv's thread pool. The check
 * here is the early answer to the caller: the sender checks the address it actually connects to.
 */
export class HostCache {
  private readonly entries = new Map<string, { at: number; ttlMs: number; addresses: Promise<string[]> }>();

  constructor(
    private readonly resolve: ResolveHost = resolveWithDns,
    private readonly ttlMs = 60_000,
    private readonly failedTtlMs = 5_000,
    private readonly maxHosts = 1_024,
    private readonly now: () => number = Date.now,
  ) {}

  lookup(host: string): Promise<string[]> {
    const now = this.now();
    const hit = this.entries.get(host);
    if (hit !== undefined && now - hit.at < hit.ttlMs) return hit.addresses;
    this.entries.delete(host);
    const addresses = this.resolve(host).catch(() => [] as string[]);
    const entry = { at: now, ttlMs: this.ttlMs, addresses };
    void addresses.then((found) => {
      if (found.length === 0) entry.ttlMs = this.failedTtlMs;
    });
    this.entries.set(host, entry);
    if (this.entries.size > this.maxHosts) this.entries.delete(this.entries.keys().next().value as string);
    return addresses;
  }
}

export interface IntakeOptions {
  /** Which callback URLs are allowed (default: public addresses only). */
  callbackUrlPolicy?: UrlPolicy;
  /** false (config webhooks.allowCallbackUrl: false): any callbackUrl is refused. Default true. */
  callbackUrlsAllowed?: boolean;
  resolveHost?: ResolveHost;
  /** Resolved hosts shared across requests; default one per route registration over `resolveHost`. */
  hostCache?: HostCache;
}

/** A request ready to be stored. */
export interface Intake {
  message: NewMessage;
  parts: NewPart[];
  route: string;
  encoding: 'gsm7' | 'latin1' | 'ucs2' | 'binary';
}

export type IntakeResult = { ok: true; intake: Intake } | { ok: false; error: HttpApiError };

/** Prefixes every `body/...` field of the error with `prefix` (batch items: body/messages/3). */
export function withFieldPrefix(error: HttpApiError, prefix: string): HttpApiError {
  const errors = error.details?.errors;
  if (errors === undefined) return error;
  return new HttpApiError(error.code, error.message, {
    details: {
      ...error.details,
      errors: errors.map((e) => ({ ...e, field: e.field.replace(/^body/, prefix) })),
    },
    headers: error.headers,
    cause: error.cause,
  });
}

function planFailed(error: PlanError): HttpApiError {
  return fromSmppError(error) ?? new HttpApiError('INVALID_MESSAGE', error.message, { cause: error });
}

function callbackRefused(message: string): HttpApiError {
  return new HttpApiError('CALLBACK_URL_REFUSED', message, {
    details: { errors: [{ field: 'body/callbackUrl', message }] },
  });
}

/** Checks a callback URL against the policy, resolving its host (unless it is an IP literal). */
export async function checkCallback(raw: string, options: IntakeOptions): Promise<HttpApiError | null> {
  if (options.callbackUrlsAllowed === false) {
    return callbackRefused('callback URLs are turned off here (webhooks.allowCallbackUrl: false)');
  }
  const policy = options.callbackUrlPolicy ?? DEFAULT_URL_POLICY;
  let host: string;
  try {
    host = new URL(raw).hostname.toLowerCase();
  } catch {
    return callbackRefused('callbackUrl is not an absolute URL');
  }
  const bare = host.replace(/^\[|\]$/g, '');
  let resolved: string[] = [];
  if (isIP(bare) === 0 && !policy.allowedHosts?.includes(host)) {
    const cache = options.hostCache ?? new HostCache(options.resolveHost);
    resolved = await cache.lookup(host);
  }
  const verdict = checkCallbackUrl(raw, resolved, policy);
  return verdict.ok ? null : callbackRefused(verdict.message);
}

/** The content of a part without its UDH (the UDHI bit says whether it has one). */
function userData(shortMessage: Buffer, esmClass: number): Buffer {
  if ((esmClass & EsmClass.UDHI) === 0 || shortMessage.length === 0) return shortMessage;
  return shortMessage.subarray(1 + shortMessage[0]!);
}

/**
 * Plans the request and picks its route: the message and parts to store, or the error (422 with the
 * field at fault). Does not check the callback URL (async; see checkCallback).
 */
export function prepareMessage(body: SendMessageBody, routes: RouteTable, now: number): IntakeResult {
  const request: SendRequest = { to: body.to, from: body.from };
  if (body.text !== undefined) request.text = body.text;
  if (body.binary !== undefined) request.binary = body.binary;
  if (body.encoding !== undefined) request.encoding = body.encoding;
  if (body.maxParts !== undefined) request.maxParts = body.maxParts;
  if (body.receipt !== undefined) request.receipt = body.receipt;
  if (body.validitySeconds !== undefined) request.validitySeconds = body.validitySeconds;
  if (body.sendAt !== undefined) request.sendAt = body.sendAt;
  const planned = planMessage(request, { reference: randomInt(0, 256) }, now);
  if (!planned.ok) return { ok: false, error: planFailed(planned.error) };
  const plan = planned.plan;

  const choice = selectRoute(routes, body.to, body.route);
  if (!choice.ok) {
    const error =
      choice.code === 'ROUTE_NOT_FOUND'
        ? new HttpApiError('ROUTE_NOT_FOUND', choice.message, {
            details: {
              route: body.route ?? '',
              errors: [{ field: 'body/route', message: choice.message }],
            },
          })
        : new HttpApiError('NO_ROUTE', choice.message, {
            details: { errors: [{ field: 'body/to', message: choice.message }] },
          });
    return { ok: false, error };
  }
  const route = choice.route.id;

  const parts: NewPart[] = plan.parts.map((p, index) => ({ index, payload: p.short_message as Buffer }));
  let content: Buffer;
  let udh: Buffer | null = null;
  if (plan.encoding === 'binary') {
    content = Buffer.from((body.binary?.hex ?? '').replace(/\s+/g, ''), 'hex');
    const userUdh = body.binary?.udhHex;
    if (userUdh !== undefined) udh = Buffer.from(userUdh.replace(/\s+/g, ''), 'hex');
  } else {
    content = Buffer.concat(plan.parts.map((p) => userData(p.short_message as Buffer, p.esm_class ?? 0)));
  }
  const message: NewMessage = {
    id: nextMessageId(),
    clientRef: body.clientRef ?? null,
    route,
    from: body.from,
    to: body.to,
    encoding: plan.encoding,
    body: content,
    udh,
    metadata: body.metadata ?? null,
    callbackUrl: body.callbackUrl ?? null,
    receiptPolicy: plan.receiptPolicy,
    validityMs: plan.validitySeconds === undefined ? null : plan.validitySeconds * 1000,
    sendAt: plan.sendAt ?? null,
  };
  return { ok: true, intake: { message, parts, route, encoding: plan.encoding } };
}
