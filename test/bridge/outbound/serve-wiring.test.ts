/**
 * serve wires the message path: the store from config.store, the engine over the binds (demo:
 * the default route over bind 'demo'), messagePath in the HTTP app, /readyz reading the store's
 * cached health, and the store closed at shutdown after the binds unbound.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type RunningService, startService } from '../../../src/cli/serve.js';
import { demoConfig } from '../../../src/config/service-config.js';
import { ErrorCode } from '../../../src/errors.js';
import { eventually } from './harness.js';

const dirs: string[] = [];
let service: RunningService | undefined;
afterEach(async () => {
  await service?.shutdown();
  service = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('serve: the message path', () => {
  it('sends a stored message over the demo bind, reports the store in /readyz, closes the store on shutdown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-serve-'));
    dirs.push(dir);
    const config = demoConfig();
    config.http = { ...config.http, host: '127.0.0.1', port: 0 };
    config.store = { ...config.store, path: join(dir, 'store.db') };
    service = await startService(config, pino({ level: 'silent' }));
    const { messagePath, store } = service.messages;
    expect(messagePath.routes().routes.map((r) => [r.id, r.binds])).toEqual([['default', ['demo']]]);

    // The SSE stream carries message status changes.
    const abort = new AbortController();
    const stream = await fetch(`${service.url}/events`, { signal: abort.signal });
    const reader = stream.body!.getReader();
    let sse = '';
    const sawSubmitted = (async () => {
      const decoder = new TextDecoder();
      while (!/event: message\ndata: \{[^\n]*"status":"submitted"/.test(sse)) {
        const { value, done } = await reader.read();
        if (done) break;
        sse += decoder.decode(value);
      }
    })();

    await store.createMessage(
      {
        id: 'hello',
        route: 'default',
        from: 'ACME',
        to: '447700900123',
        encoding: 'gsm7',
        body: Buffer.from('hi'),
      },
      [{ index: 0, payload: Buffer.from('hi') }],
    );
    messagePath.outbound.notifyQueued('default');
    // The simulator's receipt may follow the response at once: submitted is passed through either way.
    await eventually(
      async () => ['submitted', 'delivered'].includes((await store.getMessage('hello'))?.status ?? ''),
      15_000,
      'submitted',
    );
    await sawSubmitted;
    abort.abort();
    expect(sse).toMatch(/"id":"hello"[^\n]*"previous":"queued","status":"submitted"/);
    const metrics = await (await fetch(`${service.url}/metrics`)).text();
    expect(metrics).toContain('smpp_message_status_changes_total{route="default",status="submitted"} 1');
    expect(metrics).toContain('smpp_submit_latency_seconds_count{route="default"} 1');
    expect(metrics).toMatch(/smpp_outbound_queued_parts \d+/);
    expect(metrics).toMatch(/smpp_receipts_total\{result="orphaned"\} 0/);
    // The demo simulator's receipt comes back through the inbound handler (wired in serve).
    await eventually(
      async () =>
        (await (await fetch(`${service!.url}/metrics`)).text()).includes(
          'smpp_receipts_total{result="matched"} 1',
        ),
      15_000,
      'the receipt matched',
    );
    expect((await store.getMessage('hello'))?.status).toBe('delivered');
    const part = (await store.listParts('hello'))[0]!;
    expect(part.smscMessageId).toMatch(/^[0-9a-f]+$/);

    const ready = await eventually(async () => {
      const res = await fetch(`${service!.url}/readyz`);
      return res.status === 200 ? ((await res.json()) as { store?: { ok: boolean } }) : undefined;
    });
    expect(ready.store).toEqual({ ok: true });

    const running = service;
    service = undefined;
    await running.shutdown();
    const closed = await store.getMessage('hello').then(
      () => 'open',
      (error: { code?: string }) => error.code,
    );
    expect(closed).toBe(ErrorCode.StoreClosed);
  });
});
