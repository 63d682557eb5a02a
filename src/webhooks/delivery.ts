/**
 * Webhook delivery: the sender that drains the durable outbox to the receivers.
 *
 *   fan-out (in the caller's tx) ──rows──▶ outbox ◀──claim── worker per endpoint ──POST──▶ receiver
 *            └── notify (after enqueue) ──────────────────────▲          │
 *   slow poll (pollIntervalMs) ───────────────────────────────┘          └─ outcome ─▶ outbox
 *
 * - One worker per configured endpoint and one for every callback URL together, each with its own
 *   bound on requests in flight (`concurrency`) and its own keep-alive undici pool: a worker claims
 *   only as many events as it has room for, so an endpoint that is down (slow, hanging, refusing)
 *   fills its own room and nobody else's.
 * - A message's events reach an endpoint in order: the store hands out the next one only after the
 *   previous one was delivered or died. Different messages never wait for each other.
 * - Each attempt is signed the Standard Webhooks way (signing.ts): `webhook-id` is the outbox row's
 *   event id, the same on every retry, so receivers deduplicate the at-least-once redeliveries (a
 *   crash between the receiver's 2xx and the recorded outcome sends the event again after the
 *   claim's visibility timeout).
 * - What to do after an attempt is retry-schedule.ts's decision: 2xx delivered; 408/425/429/5xx,
 *   timeouts and network errors retried on the schedule (Retry-After honoured); 410 disables the
 *   endpoint (durably, until POST /webhooks/endpoints/{id}/enable); other 4xx dead after one more try.
 * - Callback URLs come from API callers: the URL policy (url-policy.ts) is applied to the address
 *   actually connected to (the lookup undici connects with checks every address it returns), so DNS
 *   rebinding cannot swap a checked address for a private one.
 *
 * Timers (the poll, the stop grace) are the clock's; nothing spins when the outbox is idle.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { performance } from 'node:perf_hooks';
import { Counter, Gauge, Histogram, type Metric } from 'prom-client';
import { Agent, type Dispatcher, Pool } from 'undici';
import { ErrorCode, SmppError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { Clock, TimerHandle } from '../session/clock.js';
import { realClock } from '../session/clock.js';
import { conflictError } from '../store/errors.js';
import type {
  DisabledWebhookEndpoint,
  Store,
  WebhookClaimFilter,
  WebhookEvent,
  WebhookOutcome,
} from '../store/store.js';
import type { WebhookEndpointConfig, WebhooksConfig } from './config.js';
import { CALLBACK_ENDPOINT, CALLBACK_PREFIX, endpointOf, WebhookFanOut } from './fan-out.js';
import {
  DEFAULT_RETRY_POLICY,
  type DeliveryResult,
  decideDelivery,
  type RetryPolicy,
} from './retry-schedule.js';
import { signWebhook } from './signing.js';
import { addressAllowed, checkCallbackUrl, classifyAddress, type UrlPolicy } from './url-policy.js';

export const ATTEMPT_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30];

/** How one delivery ended, as counted in smpp_webhook_deliveries_total{outcome}. */
export type DeliveryOutcomeLabel = 'delivered' | 'retry' | 'dead' | 'disabled';

export interface WebhookEndpointView {
  id: string;
  /** The URL's origin (the path may hold a token, so it is not shown). */
  origin: string | null;
  events: readonly string[];
  routes: readonly string[] | null;
  disabled: boolean;
  disabledAt: number | null;
  disabledReason: string | null;
  inFlight: number;
}

/** What the HTTP routes use (a small optional dependency of buildApp). */
export interface WebhookDeliveryControl {
  /** An event became due (e.g. a dead one was retried): claim now rather than at the next poll. */
  notify(endpoint?: string): void;
  endpoints(): WebhookEndpointView[];
  /** Re-enables an endpoint a 410 disabled; undefined when no endpoint has that id. */
  enableEndpoint(id: string): Promise<WebhookEndpointView | undefined>;
  /** prom-client metrics to register on the app's registry. */
  readonly metrics: readonly Metric[];
}

export interface WebhookDelivery extends WebhookDeliveryControl {
  /** Implements StatusEventSink and InboundEventSink: give it to the outbound engine and the inbound handler. */
  readonly fanOut: WebhookFanOut;
  start(): Promise<void>;
  /** Stops claiming, lets requests in flight finish for up to `graceMs`, then cuts them. */
  stop(graceMs?: number): Promise<void>;
}

export interface WebhookDeliveryOptions {
  store: Store;
  config: WebhooksConfig;
  logger: Logger;
  /** Timers (poll, stop grace) and attempt latency; default the real clock. */
  clock?: Clock;
  /** Wall-clock ms, as the store's; default Date.now. */
  now?: () => number;
  /** [0, 1) for the schedule's jitter; default Math.random. */
  random?: () => number;
  retryPolicy?: RetryPolicy;
  /** A claimed event comes back after this if its outcome was never recorded (crash); default timeout + 30 s. */
  visibilityMs?: number;
  /** Resolves callback URL hosts (tests); default node:dns lookup. */
  lookup?: typeof dnsLookup;
  /** Sent as User-Agent. */
  userAgent?: string;
}

const TIMEOUT_CODES: ReadonlySet<string> = new Set([
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** A refused answer (not 2xx, 408, 410, 425, 429, 5xx) recorded as the last error: it counts as a refusal. */
function wasRefused(lastError: string | null): boolean {
  const m = lastError === null ? null : /^HTTP (\d{3})\b/.exec(lastError);
  if (m === null) return false;
  const status = Number(m[1]);
  return !(status < 300 || status >= 500 || [408, 410, 425, 429].includes(status));
}

function errorCode(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e !== null && typeof e === 'object' && depth < 4; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** The most of a response body read (and discarded) before the connection is cut instead: as undici's dump(). */
const MAX_DISCARDED_BODY_BYTES = 128 * 1024;

/**
 * One POST through undici's dispatcher: the status and Retry-After (read only from a response that
 * is not 2xx), the body discarded as it arrives. What `request()` + `body.dump()` did, without the
 * body stream, the header object and the async resource they build per request (~5 % of the
 * sender's CPU per event in bench/inbound). The handler is undici's own (onHeaders/onData/…),
 * the one its request() uses: no adapter between.
 */
function post(
  dispatcher: Dispatcher,
  options: Dispatcher.DispatchOptions,
): Promise<{ status: number; retryAfter?: string }> {
  return new Promise((resolve, reject) => {
    let status = 0;
    let retryAfter: string | undefined;
    let read = 0;
    let abort: ((error?: Error) => void) | null = null;
    let cut = false;
    dispatcher.dispatch(options, {
      onConnect(abortRequest) {
        abort = abortRequest;
      },
      onHeaders(statusCode, rawHeaders) {
        if (statusCode < 200) return true; // 1xx: the answer is still to come
        status = statusCode;
        if (statusCode > 299) retryAfter = headerValue(rawHeaders, 'retry-after');
        return true;
      },
      onData(chunk) {
        read += chunk.length;
        if (read > MAX_DISCARDED_BODY_BYTES && !cut) {
          cut = true;
          abort?.(new Error('webhook response body too large: discarded'));
        }
        return true;
      },
      onComplete() {
        resolve(retryAfter === undefined ? { status } : { status, retryAfter });
      },
      onError(error) {
        // Once the status arrived it counts, whatever became of the body (cut here, or failed): as
        // with request() + dump(), which ignored the body's errors.
        if (status !== 0) resolve(retryAfter === undefined ? { status } : { status, retryAfter });
        else reject(error);
      },
    });
  });
}

/** A header's value from undici's raw [name, value, …] list (names in any case). */
function headerValue(raw: readonly (Buffer | string)[], name: string): string | undefined {
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (String(raw[i]).toLowerCase() === name) return String(raw[i + 1]);
  }
  return undefined;
}

interface Target {
  url: URL;
  secrets: readonly string[];
  headers: Readonly<Record<string, string>>;
}

interface Attempt {
  result: DeliveryResult;
  /** Set when the URL policy refused the target: the event is dead at once. */
  refused?: string;
  error?: string;
}

/** Claimed events a healthy endpoint may hold beyond its requests in flight, per slot. */
const PREFETCH_PER_SLOT = 8;

/**
 * One endpoint's queue runner: claims what it can take, sends up to `concurrency` at once, claims
 * again. While the endpoint answers 2xx it claims ahead (PREFETCH_PER_SLOT per slot: a claim is a
 * commit, and commits are what a durable outbox is slow at); after a failure it claims only its free
 * slots, so an endpoint that is down holds no more events than it has requests in flight.
 */
class Worker {
  inFlight = 0;
  /** Attempts done whose outcome is not yet committed. */
  recording = 0;
  disabled: DisabledWebhookEndpoint | null = null;
  /** The last attempt got a 2xx. */
  healthy = true;
  private readonly buffer: WebhookEvent[] = [];
  private pumping = false;
  private again = false;
  /** The last claim filled its room, or rows were enqueued since it ran: there may be more waiting. */
  mayHaveMore = false;
  private timer: TimerHandle | null = null;
  private readonly filter: WebhookClaimFilter;

  constructor(
    readonly id: string,
    readonly concurrency: number,
    readonly endpoint: WebhookEndpointConfig | null,
    private readonly sender: Sender,
  ) {
    this.filter = endpoint === null ? { endpointPrefix: CALLBACK_PREFIX } : { endpoint: id };
  }

  start(pollIntervalMs: number): void {
    this.timer = this.sender.clock.setTimer(() => {
      this.timer?.refresh();
      this.wake();
    }, pollIntervalMs);
    this.wake();
  }

  stop(): void {
    this.timer?.clear();
    this.timer = null;
    // Claimed but not started: they come back after the visibility timeout.
    this.buffer.length = 0;
  }

  /**
   * Whether an event may be handed over now (claimed at enqueue): running, healthy, with room, and
   * nothing left waiting in the outbox. Events stored unclaimed (no room when they came) go first:
   * while some may wait there, new ones join them and the claims take them in order, instead of
   * being handed over ahead of them for as long as the flood lasts (bench/inbound: 15–21 s).
   */
  acceptsHandOff(): boolean {
    if (!this.sender.running || this.disabled !== null || !this.healthy || this.mayHaveMore) return false;
    if (this.inFlight + this.buffer.length < this.concurrency * (1 + PREFETCH_PER_SLOT)) return true;
    // This one is stored unclaimed: the next claims must find it before anything newer is handed over.
    this.mayHaveMore = true;
    return false;
  }

  /**
   * An event claimed for this worker in a committed transaction: sent like one it claimed. If the
   * worker stopped or was disabled meanwhile, its claim runs out and the outbox hands it out again.
   */
  handOver(event: WebhookEvent): void {
    if (!this.sender.running || this.disabled !== null) return;
    this.buffer.push(event);
    this.dispatch();
  }

  /** Drops what was claimed ahead (the endpoint was disabled). */
  dropBuffer(): void {
    this.buffer.length = 0;
  }

  /** Rows were enqueued for this worker: claim them, and claim again after a send until none are left. */
  wakeForNew(): void {
    this.mayHaveMore = true;
    this.wake();
  }

  wake(): void {
    if (this.pumping) {
      this.again = true;
      return;
    }
    void this.pump();
  }

  /** Starts buffered events while there are free slots; drops those whose claim runs out too soon. */
  private dispatch(): void {
    const minClaimLeftMs = this.sender.timeoutMs + 1_000;
    while (this.inFlight < this.concurrency && this.buffer.length > 0 && this.sender.running) {
      const event = this.buffer.shift() as WebhookEvent;
      if ((event.claimedUntil ?? 0) - this.sender.wallNow() < minClaimLeftMs) continue;
      this.run(event);
    }
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      do {
        this.again = false;
        while (this.sender.running && this.disabled === null) {
          this.dispatch();
          const ahead = this.healthy ? this.concurrency * PREFETCH_PER_SLOT : 0;
          // Outcomes being committed do not hold the next claim back (the two commit together), up to a bound.
          const room = this.concurrency + ahead - this.inFlight - this.buffer.length;
          if (this.recording > this.concurrency + 2 * ahead) break;
          // Claim when a good share of the room is free, not for every slot that frees up.
          if (room <= 0 || (this.buffer.length > 0 && room < Math.max(1, ahead / 2))) break;
          const events = await this.sender.store.claimWebhooks(room, this.sender.visibilityMs, this.filter);
          this.mayHaveMore = events.length === room;
          this.buffer.push(...events);
          this.dispatch();
          if (events.length < room) break;
        }
      } while (this.again && this.sender.running);
    } catch (error) {
      if (this.sender.running)
        this.sender.logger.warn({ err: error, endpoint: this.id }, 'webhook claim failed');
    } finally {
      this.pumping = false;
    }
  }

  private run(event: WebhookEvent): void {
    this.inFlight++;
    const attempted = () => {
      this.inFlight--;
      this.recording++;
      this.dispatch();
    };
    void this.sender.deliver(this, event, attempted).finally(() => {
      this.recording--;
      // The next event of the same message is claimable now; or the last claim left some behind
      // (or new rows were notified while it could not claim). Not after every send: a claim that
      // finds nothing is still a transaction, and the poll finds what comes due later.
      if (event.messageId !== null || this.mayHaveMore) this.wake();
      this.sender.settled();
    });
  }
}

class Sender implements WebhookDelivery {
  readonly fanOut: WebhookFanOut;
  readonly store: Store;
  readonly logger: Logger;
  readonly clock: Clock;
  readonly visibilityMs: number;
  readonly metrics: readonly Metric[];
  running = false;
  readonly timeoutMs: number;
  private readonly now: () => number;
  /** Outcomes waiting for the next outcome transaction, and whether one is being committed. */
  private outcomes: { eventId: string; outcome: WebhookOutcome; done: (error?: unknown) => void }[] = [];
  private flushing = false;
  private readonly random: () => number;
  private readonly policy: RetryPolicy;
  private readonly urlPolicy: UrlPolicy;
  private readonly config: WebhooksConfig;
  private readonly workers = new Map<string, Worker>();
  private readonly pools = new Map<string, Pool>();
  /** Configured endpoints' targets, by worker id (made at their first event). */
  private readonly targets = new Map<string, Target>();
  private readonly callbackAgent: Agent;
  private readonly userAgent: string;
  private readonly notified = new Set<string>();
  private notifyScheduled: NodeJS.Immediate | null = null;
  private idleWaiters: (() => void)[] = [];
  private readonly deliveries: Counter<'endpoint' | 'outcome'>;
  private readonly latency: Histogram<'endpoint'>;

  constructor(options: WebhookDeliveryOptions) {
    const { config } = options;
    this.store = options.store;
    this.config = config;
    this.logger = options.logger;
    this.clock = options.clock ?? realClock;
    this.now = options.now ?? Date.now;
    this.timeoutMs = config.timeoutMs;
    this.random = options.random ?? Math.random;
    this.policy = options.retryPolicy ?? DEFAULT_RETRY_POLICY;
    this.visibilityMs = options.visibilityMs ?? config.timeoutMs + 30_000;
    this.urlPolicy = { allowPrivate: config.allowPrivateCallbackUrls };
    this.userAgent = options.userAgent ?? 'smpp-bridge-webhooks';
    this.fanOut = new WebhookFanOut(
      config,
      (endpoints) => {
        for (const endpoint of endpoints) this.notify(endpoint);
      },
      {
        claimForMs: this.visibilityMs,
        accepts: (endpoint) => this.workers.get(endpointOf(endpoint))?.acceptsHandOff() ?? false,
        take: (events) => {
          for (const event of events) this.workers.get(endpointOf(event.endpoint))?.handOver(event);
        },
      },
    );

    const timeouts = {
      headersTimeout: config.timeoutMs,
      bodyTimeout: config.timeoutMs,
      connectTimeout: config.timeoutMs,
      keepAliveTimeout: 4_000,
    };
    for (const endpoint of config.endpoints) {
      this.workers.set(endpoint.id, new Worker(endpoint.id, endpoint.concurrency, endpoint, this));
      this.pools.set(
        endpoint.id,
        new Pool(new URL(endpoint.url).origin, { ...timeouts, connections: endpoint.concurrency }),
      );
    }
    this.workers.set(
      CALLBACK_ENDPOINT,
      new Worker(CALLBACK_ENDPOINT, config.callbackConcurrency, null, this),
    );
    const lookup = options.lookup ?? dnsLookup;
    this.callbackAgent = new Agent({
      ...timeouts,
      connections: 4,
      connect: { lookup: this.policyLookup(lookup) } as object,
    });

    const ids = [...this.workers.keys()];
    this.deliveries = new Counter({
      name: 'smpp_webhook_deliveries_total',
      help: 'Webhook delivery attempts by endpoint and outcome (delivered, retry, dead, disabled).',
      labelNames: ['endpoint', 'outcome'],
      registers: [],
    });
    for (const endpoint of ids) {
      for (const outcome of ['delivered', 'retry', 'dead', 'disabled'] as const) {
        this.deliveries.inc({ endpoint, outcome }, 0);
      }
    }
    this.latency = new Histogram({
      name: 'smpp_webhook_attempt_duration_seconds',
      help: 'How long one webhook attempt took, from sending the request to its outcome.',
      labelNames: ['endpoint'],
      buckets: ATTEMPT_BUCKETS_SECONDS,
      registers: [],
    });
    const store = this.store;
    const workers = this.workers;
    const now = this.now;
    // One read of the store per scrape serves both gauges.
    let backlog: Promise<Map<string, { pending: number; oldestAt: number }>> | null = null;
    const readBacklog = () => {
      backlog ??= store
        .webhookBacklog()
        .then((rows) => {
          const by = new Map<string, { pending: number; oldestAt: number }>();
          for (const row of rows) {
            const id = endpointOf(row.endpoint);
            const seen = by.get(id);
            by.set(id, {
              pending: (seen?.pending ?? 0) + row.pending,
              oldestAt: Math.min(seen?.oldestAt ?? Number.POSITIVE_INFINITY, row.oldestPendingAt),
            });
          }
          return by;
        })
        .finally(() => {
          setImmediate(() => {
            backlog = null;
          });
        });
      return backlog;
    };
    const collectInto = async (
      gauge: Gauge<'endpoint'>,
      pick: (b: { pending: number; oldestAt: number }) => number,
    ) => {
      const by = await readBacklog();
      gauge.reset();
      for (const id of new Set([...workers.keys(), ...by.keys()])) {
        const b = by.get(id);
        gauge.set({ endpoint: id }, b === undefined ? 0 : pick(b));
      }
    };
    const depth = new Gauge({
      name: 'smpp_webhook_outbox_pending',
      help: 'Webhook events waiting in the outbox (due or retrying), by endpoint.',
      labelNames: ['endpoint'],
      registers: [],
      async collect() {
        await collectInto(this, (b) => b.pending);
      },
    });
    const oldest = new Gauge({
      name: 'smpp_webhook_outbox_oldest_pending_age_seconds',
      help: 'Age of the oldest webhook event still pending, by endpoint (0 when none).',
      labelNames: ['endpoint'],
      registers: [],
      async collect() {
        await collectInto(this, (b) => Math.max(0, (now() - b.oldestAt) / 1000));
      },
    });
    const disabled = new Gauge({
      name: 'smpp_webhook_endpoint_disabled',
      help: 'Whether the endpoint is disabled (it answered 410 Gone) until re-enabled (1) or not (0).',
      labelNames: ['endpoint'],
      registers: [],
      collect() {
        for (const [id, worker] of workers) {
          if (id !== CALLBACK_ENDPOINT) this.set({ endpoint: id }, worker.disabled === null ? 0 : 1);
        }
      },
    });
    this.metrics = [this.deliveries, this.latency, depth, oldest, disabled];
  }

  async start(): Promise<void> {
    if (this.running) return;
    const disabled = await this.store.listDisabledWebhookEndpoints();
    for (const d of disabled) {
      const worker = this.workers.get(d.endpoint);
      if (worker !== undefined) worker.disabled = d;
    }
    if (this.config.allowCallbackUrl && this.config.callbackSecrets.length === 0) {
      this.logger.info('webhooks.callbackSecret is not set: deliveries to callback URLs are not signed');
    }
    this.running = true;
    for (const worker of this.workers.values()) worker.start(this.config.pollIntervalMs);
  }

  async stop(graceMs = 1_000): Promise<void> {
    if (!this.running) return;
    this.running = false;
    if (this.notifyScheduled !== null) clearImmediate(this.notifyScheduled);
    this.notifyScheduled = null;
    for (const worker of this.workers.values()) worker.stop();
    if (this.inFlight() > 0) {
      await new Promise<void>((resolve) => {
        const timer = this.clock.setTimer(resolve, graceMs);
        this.idleWaiters.push(() => {
          timer.clear();
          resolve();
        });
      });
    }
    // Requests still running are cut; their events were not recorded and come back after the
    // visibility timeout (the same webhook-id: receivers deduplicate).
    await Promise.all([
      ...[...this.pools.values()].map((pool) => pool.destroy()),
      this.callbackAgent.destroy(),
    ]);
  }

  notify(endpoint?: string): void {
    if (!this.running) return;
    if (endpoint === undefined) for (const id of this.workers.keys()) this.notified.add(id);
    else this.notified.add(endpoint);
    // After this turn: the enqueuing transaction is then queued before the claim.
    this.notifyScheduled ??= setImmediate(() => {
      this.notifyScheduled = null;
      for (const id of this.notified) this.workers.get(id)?.wakeForNew();
      this.notified.clear();
    });
  }

  endpoints(): WebhookEndpointView[] {
    return this.config.endpoints.map((e) => this.view(this.workers.get(e.id) as Worker));
  }

  async enableEndpoint(id: string): Promise<WebhookEndpointView | undefined> {
    const worker = this.workers.get(id);
    if (worker === undefined || worker.endpoint === null) return undefined;
    await this.store.setWebhookEndpointDisabled(id, null);
    if (worker.disabled !== null) this.logger.info({ endpoint: id }, 'webhook endpoint enabled again');
    worker.disabled = null;
    worker.wake();
    return this.view(worker);
  }

  settled(): void {
    if (this.inFlight() === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private inFlight(): number {
    let n = 0;
    for (const worker of this.workers.values()) n += worker.inFlight + worker.recording;
    return n;
  }

  private view(worker: Worker): WebhookEndpointView {
    const e = worker.endpoint as WebhookEndpointConfig;
    return {
      id: e.id,
      origin: new URL(e.url).origin,
      events: e.events,
      routes: e.routes,
      disabled: worker.disabled !== null,
      disabledAt: worker.disabled?.disabledAt ?? null,
      disabledReason: worker.disabled?.reason ?? null,
      inFlight: worker.inFlight,
    };
  }

  /** A dns lookup that fails for any address the callback URL policy refuses (the connect pins a checked one). */
  private policyLookup(lookup: typeof dnsLookup) {
    const policy = this.urlPolicy;
    return (
      hostname: string,
      options: { family?: number; all?: boolean },
      callback: (err: Error | null, address?: string | LookupAddress[], family?: number) => void,
    ): void => {
      lookup(hostname, { all: true, family: options.family ?? 0 }, (err, addresses) => {
        if (err) return callback(err);
        const list = addresses as LookupAddress[];
        const bad = list.find((a) => !addressAllowed(a.address, policy));
        if (bad !== undefined || list.length === 0) {
          const why =
            bad === undefined
              ? `${hostname} did not resolve`
              : `${hostname} resolves to ${bad.address} (${classifyAddress(bad.address)}), which callbacks may not reach`;
          return callback(new SmppError(ErrorCode.WebhookUrlRefused, why));
        }
        if (options.all) return callback(null, list);
        return callback(null, list[0]!.address, list[0]!.family);
      });
    };
  }

  private target(worker: Worker, event: WebhookEvent): Target | string {
    if (worker.endpoint !== null) {
      // A configured endpoint's target is the same for every event: its URL parsed once.
      let target = this.targets.get(worker.id);
      if (target === undefined) {
        target = {
          url: new URL(worker.endpoint.url),
          secrets: worker.endpoint.secrets,
          headers: worker.endpoint.headers,
        };
        this.targets.set(worker.id, target);
      }
      return target;
    }
    const raw = event.endpoint.slice(CALLBACK_PREFIX.length);
    // Scheme, credentials and address literals here; host names when the connection resolves them.
    const verdict = checkCallbackUrl(raw, [], this.urlPolicy);
    if (!verdict.ok && verdict.code !== 'NOT_RESOLVED') return verdict.message;
    return { url: new URL(raw), secrets: this.config.callbackSecrets, headers: {} };
  }

  private async attempt(worker: Worker, event: WebhookEvent, target: Target): Promise<Attempt> {
    // Serialized once, at enqueue (the store gives it back with the event).
    const body = event.body ?? JSON.stringify(event.payload);
    const signed =
      target.secrets.length > 0
        ? signWebhook({ id: event.eventId, now: this.now(), body, secrets: target.secrets })
        : { 'webhook-id': event.eventId, 'webhook-timestamp': String(Math.floor(this.now() / 1000)) };
    const headers = {
      ...target.headers,
      'content-type': 'application/json',
      'user-agent': this.userAgent,
      ...signed,
    };
    const path = target.url.pathname + target.url.search;
    try {
      const response =
        worker.endpoint === null
          ? await post(this.callbackAgent, { origin: target.url.origin, path, method: 'POST', headers, body })
          : await post(this.pools.get(worker.id) as Pool, { path, method: 'POST', headers, body });
      return { result: { kind: 'response', ...response } };
    } catch (error) {
      const code = errorCode(error);
      if (code === ErrorCode.WebhookUrlRefused) {
        return { result: { kind: 'network_error' }, refused: (error as Error).message };
      }
      if (code !== undefined && TIMEOUT_CODES.has(code)) {
        return { result: { kind: 'timeout' }, error: `timeout (${code})` };
      }
      return {
        result: { kind: 'network_error' },
        error: `network error (${code ?? (error as Error).message})`,
      };
    }
  }

  wallNow(): number {
    return this.now();
  }

  /**
   * Records an outcome in the next outcome transaction: every outcome that arrives while one commits
   * goes into the following one, so a commit (an fsync) serves hundreds of deliveries.
   */
  private record(eventId: string, outcome: WebhookOutcome): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.outcomes.push({
        eventId,
        outcome,
        done: (error) => (error === undefined ? resolve() : reject(error)),
      });
      this.flushOutcomes();
    });
  }

  private flushOutcomes(): void {
    if (this.flushing || this.outcomes.length === 0) return;
    this.flushing = true;
    const batch = this.outcomes;
    this.outcomes = [];
    const failed = new Map<string, unknown>();
    void this.store
      .transaction(async (tx) => {
        // Deliveries in one statement; the rest one by one. One refused outcome (its claim ran out
        // and another attempt recorded first) spoils no other.
        const delivered = batch.filter((o) => o.outcome.kind === 'delivered').map((o) => o.eventId);
        for (const eventId of await tx.recordWebhooksDelivered(delivered)) {
          failed.set(
            eventId,
            conflictError(`webhook event ${eventId} is no longer pending: an outcome was recorded before`),
          );
        }
        for (const { eventId, outcome } of batch) {
          if (outcome.kind === 'delivered') continue;
          try {
            await tx.recordWebhookOutcome(eventId, outcome);
          } catch (error) {
            failed.set(eventId, error);
          }
        }
      })
      .then(
        () => {
          for (const o of batch) o.done(failed.get(o.eventId));
        },
        (error: unknown) => {
          for (const o of batch) o.done(error ?? new Error('outcome transaction failed'));
        },
      )
      .finally(() => {
        this.flushing = false;
        this.flushOutcomes();
      });
  }

  /** One attempt and its outcome; `attempted` is called when the HTTP exchange is over (the slot is free). */
  async deliver(worker: Worker, event: WebhookEvent, attempted: () => void): Promise<void> {
    const label = worker.id;
    const startedAt = performance.now();
    const target = this.target(worker, event);
    let attempt: Attempt;
    try {
      attempt =
        typeof target === 'string'
          ? { result: { kind: 'network_error' }, refused: target }
          : await this.attempt(worker, event, target);
    } finally {
      attempted();
    }
    // Stopping cut this request: leave the event claimed; it comes back after the visibility timeout.
    if (!this.running && attempt.result.kind !== 'response') return;
    this.latency.observe({ endpoint: label }, (performance.now() - startedAt) / 1000);

    const { result } = attempt;
    worker.healthy = result.kind === 'response' && result.status >= 200 && result.status <= 299;
    const decision =
      attempt.refused !== undefined
        ? ({ action: 'dead', reason: `callback URL refused: ${attempt.refused}` } as const)
        : decideDelivery(
            result,
            { attempt: event.attempts + 1, refusals: wasRefused(event.lastError) ? 1 : 0 },
            this.now(),
            this.policy,
            this.random,
          );
    const what = result.kind === 'response' ? `HTTP ${result.status}` : (attempt.error ?? result.kind);
    try {
      switch (decision.action) {
        case 'success':
          await this.record(event.eventId, { kind: 'delivered' });
          this.deliveries.inc({ endpoint: label, outcome: 'delivered' });
          return;
        case 'retry':
          await this.record(event.eventId, {
            kind: 'retry',
            retryAt: this.now() + decision.delayMs,
            error: `${what}: ${decision.reason}`,
          });
          this.deliveries.inc({ endpoint: label, outcome: 'retry' });
          this.logger.debug(
            {
              endpoint: label,
              eventId: event.eventId,
              attempt: event.attempts + 1,
              delayMs: decision.delayMs,
            },
            `webhook attempt failed (${what}); retrying`,
          );
          return;
        case 'dead':
          await this.record(event.eventId, { kind: 'dead', error: `${what}: ${decision.reason}` });
          this.deliveries.inc({ endpoint: label, outcome: 'dead' });
          this.logger.warn(
            { endpoint: label, eventId: event.eventId, type: event.type },
            `webhook event dead: ${decision.reason}`,
          );
          return;
        case 'disable_endpoint': {
          const reason = `${what}: ${decision.reason}`;
          if (worker.endpoint !== null) {
            worker.disabled = { endpoint: worker.id, disabledAt: this.now(), reason };
            worker.dropBuffer();
          }
          await this.record(event.eventId, { kind: 'dead', error: reason });
          this.deliveries.inc({ endpoint: label, outcome: 'disabled' });
          if (worker.endpoint !== null) {
            await this.store.setWebhookEndpointDisabled(worker.id, reason);
            this.logger.error(
              { endpoint: label },
              `webhook endpoint disabled: it answered 410 Gone; POST /webhooks/endpoints/${worker.id}/enable to send again`,
            );
          }
          return;
        }
      }
    } catch (error) {
      // Conflict: the claim expired and another attempt recorded first; closed: shutting down.
      if (this.running)
        this.logger.warn({ err: error, eventId: event.eventId }, 'webhook outcome not recorded');
    }
  }
}

/**
 * The webhook delivery of a process: the fan-out (give `fanOut` to the outbound engine and the
 * inbound handler), the sender (start after the store opened, stop before it closes) and what the
 * HTTP routes need (WebhookDeliveryControl).
 */
export function createWebhookDelivery(options: WebhookDeliveryOptions): WebhookDelivery {
  return new Sender(options);
}
