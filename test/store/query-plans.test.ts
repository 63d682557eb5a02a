/**
 * The message path's SQL stays proportional to the work in flight, not to the history kept.
 * Finished messages, parts, events and webhook rows stay for `store.retentionDays` (7 days by
 * default: millions of rows on a busy gateway), and SQLite runs on the event loop: one statement
 * that reads the whole of such a table blocks every bind for as long as it takes.
 *
 * The real service (startService with the SQLite store, an in-process simulator, a webhook
 * receiver) carries messages out, receipts and MO in, and webhooks out; every statement it runs is
 * recorded; then SQLite's query planner is asked how it would run each on that database, with no
 * table statistics (the store never runs ANALYZE, so these are the plans it uses). None may scan a
 * table that grows with the history, and none may walk a queue's index by queue alone (every part
 * the queue ever had).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type Database from 'better-sqlite3';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningService, startService } from '../../src/cli/serve.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { createSimulator, type SmscSimulator } from '../../src/simulator/simulator.js';
import { LISTED_WEBHOOK } from '../../src/store/schema.js';
import { openDatabase, prepare } from '../../src/store/sqlite-native.js';
import { eventually } from '../helpers/eventually.js';

/** Tables whose size follows the traffic and the retention. */
const GROWING =
  /^(messages|message_parts|message_events|webhook_events|inbound_parts|inbound_messages|inbound_fingerprints|idempotency_keys|parked_receipts)$/;

const seen = new Set<string>();
let recording = false;
let restore: (() => void) | undefined;

function recordStatements(): void {
  // Through sqlite-native: a statement left to the GC aborts Node 24 (see there).
  const probe = openDatabase(':memory:');
  const proto = Object.getPrototypeOf(prepare(probe, 'SELECT 1')) as Record<string, unknown>;
  probe.close();
  const originals = new Map<string, unknown>();
  for (const method of ['run', 'get', 'all', 'iterate'] as const) {
    const original = proto[method] as (this: { source: string }, ...args: unknown[]) => unknown;
    originals.set(method, original);
    proto[method] = function (this: { source: string }, ...args: unknown[]) {
      if (recording) seen.add(this.source);
      return original.apply(this, args);
    };
  }
  restore = () => {
    for (const [method, original] of originals) proto[method] = original;
  };
}

/** The plan's lines, with the table each reads resolved through the aliases of the statement. */
function badPlanLines(db: Database.Database, sql: string): string[] {
  const aliases = new Map<string, string>();
  for (const m of sql.matchAll(/\b(?:FROM|JOIN|UPDATE|INTO)\s+(\w+)(?:\s+(?:AS\s+)?(\w+))?/gi)) {
    const table = m[1] as string;
    aliases.set(table, table);
    const alias = m[2];
    if (
      alias &&
      !/^(WHERE|SET|ON|VALUES|SELECT|ORDER|GROUP|LIMIT|JOIN|LEFT|INNER|CROSS|USING|RETURNING|DEFAULT)$/i.test(
        alias,
      )
    )
      aliases.set(alias, table);
  }
  // The plan does not depend on the values: bind as many NULLs as the statement takes.
  const explain = prepare(db, `EXPLAIN QUERY PLAN ${sql}`);
  const params = (sql.match(/\?/g) ?? []).length;
  const rows = explain.all(...new Array<null>(params).fill(null)) as { detail: string }[];
  const bad: string[] = [];
  for (const { detail } of rows) {
    const scan = /^SCAN (\w+)$/.exec(detail);
    if (scan && GROWING.test(aliases.get(scan[1] as string) ?? (scan[1] as string))) bad.push(detail);
    if (/USING (?:COVERING )?INDEX message_parts_queue \(queue=\?\)/.test(detail)) bad.push(detail);
  }
  // A statement that names its rows by key must find them by that key, not walk another index
  // (without statistics SQLite may prefer, say, the index on state and read every pending row).
  for (const [key, index] of KEY_LOOKUPS) {
    if (key.test(sql) && !rows.some(({ detail }) => index.test(detail)))
      bad.push(`no lookup by ${key.source}: ${rows.map((r) => r.detail).join(' / ')}`);
  }
  return bad;
}

/** Statements naming rows by these keys, and the index that finds them. */
const KEY_LOOKUPS: [RegExp, RegExp][] = [
  [/\bevent_id (=|IN)/, /webhook_events USING INDEX sqlite_autoindex_webhook_events_1 \(event_id=\?\)/],
  [/\bp\.message_id IN/, /USING INDEX sqlite_autoindex_message_parts_1 \(message_id=\?\)/],
  // Pending or dead events listed by state: through their index, not a walk of every event kept.
  [
    /\bstate IN \('pending', 'dead'\) AND state = \?/,
    /webhook_events USING INDEX webhook_events_listed \(state=\? AND id>\?\)/,
  ],
  // One endpoint's events (any other state): through the endpoint index, not every endpoint's.
  [
    /FROM webhook_events WHERE (?:state = \? AND )?endpoint = \? AND id > \?/,
    /webhook_events USING INDEX webhook_events_by_endpoint \(endpoint=\? AND id>\?\)/,
  ],
];

describe('the message path on SQLite: no statement reads the history', () => {
  let dir: string;
  let sim: SmscSimulator;
  let service: RunningService;
  let receiver: http.Server;
  let hooks = 0;

  beforeAll(async () => {
    recordStatements();
    sim = createSimulator({ host: '127.0.0.1', port: 0, sessionInitTimeoutMs: 0 });
    const { port } = await sim.listen();
    receiver = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        hooks++;
        res.writeHead(200).end();
      });
    });
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
    dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-plans-'));
    const config = parseConfigText(
      [
        'http: { host: 127.0.0.1, port: 0 }',
        `store: { path: ${join(dir, 'store.db')} }`,
        'binds:',
        `  - { id: b0, host: 127.0.0.1, port: ${port}, systemId: plans, password: pw, bindType: transceiver }`,
        'webhooks:',
        '  pollIntervalMs: 100',
        '  allowPrivateCallbackUrls: true',
        '  endpoints:',
        `    - { id: rx, url: ${JSON.stringify(hookUrl)}, secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw, events: [message.received, message.delivered] }`,
      ].join('\n'),
      { env: {}, baseDir: dir },
    );
    service = await startService(config, pino({ level: 'silent' }));
    await eventually(async () => service.registry.list().every((b) => b.isBound), 'bound', 30_000);
  }, 60_000);

  afterAll(async () => {
    restore?.();
    await service?.shutdown();
    await sim?.close();
    await new Promise<void>((resolve) => receiver?.close(() => resolve()));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('sends, receives and reports without a scan of a growing table', async () => {
    recording = true;
    const post = async (path: string, body: unknown, headers: Record<string, string> = {}) => {
      const res = await fetch(`${service.url}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });
      expect(res.status, await res.clone().text()).toBeLessThan(300);
      return (await res.json()) as Record<string, unknown>;
    };
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) {
      const m = await post(
        '/messages',
        {
          to: `+4477009000${i}`,
          from: 'Plans',
          text: i === 0 ? 'x'.repeat(300) : `hello ${i}`,
          clientRef: `ref-${i}`,
        },
        { 'idempotency-key': `key-${i}` },
      );
      ids.push(m.id as string);
    }
    const batch = await post('/messages/batch', {
      defaults: { from: 'Plans' },
      messages: [
        { to: '+447700900100', text: 'a' },
        { to: '+447700900101', text: 'b' },
      ],
    });
    for (const r of batch.results as { message: { id: string } }[]) ids.push(r.message.id);
    // A scheduled message goes through the queue and a claim (the others are written at once).
    const scheduled = await post('/messages', {
      to: '+447700900200',
      from: 'Plans',
      text: 'later',
      sendAt: new Date(Date.now() + 1_500).toISOString(),
    });
    ids.push(scheduled.id as string);
    await sim.injectMo({ from: '447700900123', to: '12345', text: 'an MO' });
    await eventually(
      async () => {
        for (const id of ids) {
          const status = (await service.messages.store.getMessage(id))?.status;
          if (status !== 'delivered') throw new Error(`${id} is ${status}`);
        }
        if (hooks < ids.length + 1) throw new Error(`${hooks} webhooks`);
        return true;
      },
      'delivered and webhooks sent',
      30_000,
    );
    for (const path of [
      `/messages/${ids[0]}`,
      '/messages?limit=5',
      '/messages?clientRef=ref-1',
      '/messages?status=delivered&limit=2',
      '/messages/stats',
      '/inbound?limit=5',
      '/webhooks/deliveries?state=pending',
      '/webhooks/deliveries?state=dead&endpoint=rx',
      '/webhooks/deliveries?state=dead',
      '/webhooks/deliveries?endpoint=rx',
      '/webhooks/deliveries?state=delivered&endpoint=rx',
      '/webhooks/deliveries?state=failed',
      `/messages?since=${encodeURIComponent(new Date(Date.now() - 60_000).toISOString())}&limit=3`,
      '/messages?status=failed,rejected&clientRef=ref-2',
      '/metrics',
    ]) {
      const res = await fetch(`${service.url}${path}`);
      expect(res.status, path).toBe(200);
    }
    // What the engine runs on its timers (queue depth every poll, the validity sweep), and the
    // hourly prune: run here so the check does not depend on a timer firing within the test.
    const { store } = service.messages;
    await store.countOpenParts();
    await store.listMessagesPastValidity(Date.now(), 100);
    await store.prune(Date.now());
    recording = false;

    const raw = openDatabase(join(dir, 'store.db'), { readonly: true });
    try {
      expect(
        prepare(raw, "SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_stat1'").pluck().get(),
      ).toBe(0);
      const offenders: string[] = [];
      const checked = [...seen].filter((sql) => /^\s*(SELECT|UPDATE|DELETE|INSERT|WITH)/i.test(sql));
      for (const sql of checked) {
        const bad = badPlanLines(raw, sql);
        if (bad.length > 0) offenders.push(`${bad.join('; ')} <= ${sql.replace(/\s+/g, ' ').trim()}`);
      }
      // The run covered the hot path: claims, outcomes, receipts, MO, webhooks, queue depth.
      expect(checked.length).toBeGreaterThan(30);
      expect(checked.some((sql) => /state = 'claimed', bind_id/.test(sql))).toBe(true);
      expect(checked.some((sql) => /COUNT\(\*\) AS n FROM message_parts/.test(sql))).toBe(true);
      expect(checked.some((sql) => /m\.validity_ms IS NOT NULL/.test(sql))).toBe(true);
      expect(checked.some((sql) => sql.includes(`${LISTED_WEBHOOK} AND state = ?`))).toBe(true);
      expect(checked.some((sql) => /FROM webhook_events WHERE endpoint = \? AND id > \?/.test(sql))).toBe(
        true,
      );
      expect(offenders).toEqual([]);
    } finally {
      raw.close();
    }
  }, 90_000);
});
