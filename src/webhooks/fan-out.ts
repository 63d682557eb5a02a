/**
 * The webhook fan-out: told of every status change and every received message inside the
 * transaction that records it (src/bridge/ports.ts), it enqueues one outbox row per endpoint that
 * subscribes (its `events`, and its `routes` when it has some) and, for status events, one for the
 * message's own callbackUrl (unless `webhooks.allowCallbackUrl: false`). Nothing is sent here: the
 * sender claims the rows from the outbox after the commit, so a crash loses neither the change nor
 * its events, and SMPP handling never waits for an HTTP receiver.
 */
import type {
  InboundEventSink,
  MessageStatusChange,
  ReceivedMessage,
  StatusEventSink,
} from '../bridge/ports.js';
import type { StoreOps, StoreTx, WebhookEvent } from '../store/store.js';
import type { WebhookEndpointConfig, WebhooksConfig } from './config.js';
import {
  type BindHealthChange,
  bindHealthPayload,
  receivedPayload,
  statusEventType,
  statusPayload,
  type WebhookEventType,
  type WebhookPayload,
} from './events.js';

/** Outbox rows for a message's callbackUrl have the endpoint `callback:<url>`. */
export const CALLBACK_PREFIX = 'callback:';
/** The endpoint id of the callback worker (and the metrics label of every callback URL). */
export const CALLBACK_ENDPOINT = 'callback';

export const callbackEndpointKey = (url: string): string => CALLBACK_PREFIX + url;

/** The endpoint id an outbox row is sent by: the configured endpoint's, or `callback`. */
export const endpointOf = (key: string): string =>
  key.startsWith(CALLBACK_PREFIX) ? CALLBACK_ENDPOINT : key;

function subscribes(endpoint: WebhookEndpointConfig, type: WebhookEventType, route: string | null): boolean {
  if (!endpoint.events.includes(type)) return false;
  if (endpoint.routes === null || type === 'bind.health_changed') return true;
  return route !== null && endpoint.routes.includes(route);
}

/**
 * The sender's side of a hand-over: an event without an order (a received message) is enqueued
 * already claimed, and given to the endpoint's worker once the transaction committed, instead of
 * being claimed back from the outbox in a transaction of its own (one commit less per event).
 */
export interface WebhookHandOff {
  /** How long an event handed over stays claimed (the sender's visibility timeout). */
  readonly claimForMs: number;
  /** Whether the endpoint's worker takes events now (running, healthy, with room). */
  accepts(endpoint: string): boolean;
  /** After the commit: the events are the worker's to send. */
  take(events: readonly WebhookEvent[]): void;
}

export class WebhookFanOut implements StatusEventSink, InboundEventSink {
  constructor(
    private readonly config: WebhooksConfig,
    /** Called with the endpoint ids that got rows (the sender claims them once the commit is done). */
    private readonly onEnqueued: (endpoints: ReadonlySet<string>) => void = () => {},
    private readonly handOff?: WebhookHandOff,
  ) {}

  async onStatusChanged(tx: StoreTx, change: MessageStatusChange): Promise<void> {
    const type = statusEventType(change.status);
    if (type === undefined) return;
    const { message } = change;
    const keys = this.subscribers(type, message.route);
    const callback =
      this.config.allowCallbackUrl &&
      message.callbackUrl !== null &&
      this.config.callbackEvents.includes(type);
    if (callback) keys.push(callbackEndpointKey(message.callbackUrl as string));
    // The payload only when someone takes it: most messages of a service without webhooks pass here.
    if (keys.length === 0) return;
    await this.enqueue(tx, keys, message.id, statusPayload(type, change));
  }

  async onMessageReceived(tx: StoreTx, received: ReceivedMessage): Promise<void> {
    const keys = this.subscribers('message.received', received.route);
    if (keys.length === 0) return;
    // No order among received messages: their events may be handed over after the commit.
    await this.enqueue(tx, keys, null, receivedPayload(received), (fn) => tx.afterCommit(fn));
  }

  /** A bind's health moved (the registry's SSE transitions): `bind.health_changed` to its subscribers. */
  async onBindHealthChanged(store: StoreOps, change: BindHealthChange): Promise<void> {
    const keys = this.subscribers('bind.health_changed', null);
    await this.enqueue(store, keys, null, bindHealthPayload(change));
  }

  private subscribers(type: WebhookEventType, route: string | null): string[] {
    return this.config.endpoints.filter((e) => subscribes(e, type, route)).map((e) => e.id);
  }

  /**
   * One outbox row per endpoint, then the endpoints told (the sender claims after the commit). With
   * `afterCommit` (events without an order, in a transaction), an endpoint whose worker takes them
   * now gets its rows claimed at once and handed over after the commit instead.
   */
  private async enqueue(
    ops: StoreOps,
    keys: readonly string[],
    messageId: string | null,
    payload: WebhookPayload,
    afterCommit?: (fn: () => void) => void,
  ): Promise<void> {
    if (keys.length === 0) return;
    const handOff = afterCommit === undefined ? undefined : this.handOff;
    const handed: WebhookEvent[] = [];
    const notified = new Set<string>();
    for (const endpoint of keys) {
      const claim = handOff?.accepts(endpoint) === true;
      const event = await ops.enqueueWebhook({
        messageId,
        endpoint,
        type: payload.type,
        payload,
        ...(claim && handOff ? { claimForMs: handOff.claimForMs } : {}),
      });
      if (claim) handed.push(event);
      else notified.add(endpointOf(endpoint));
    }
    if (handOff && afterCommit && handed.length > 0) afterCommit(() => handOff.take(handed));
    if (notified.size > 0) this.onEnqueued(notified);
  }
}
