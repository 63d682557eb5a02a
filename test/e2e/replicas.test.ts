/**
 * Three real `serve` processes sharing binds through one real PostgreSQL (issue 12), against the
 * SMSC simulator in this process: the binds spread (each runs on exactly one replica, the others
 * show it standby with its owner), a bind created through the API on one replica runs on exactly
 * one, messages accepted by any replica are sent once, `kill -9` of a replica moves its binds to
 * the others without the simulator ever seeing two sessions of one bind, a replica that comes
 * back takes its share again, and a frozen replica (SIGSTOP) loses its binds after the TTL and,
 * when it resumes, closes its stale sessions at once and binds none of them with its old leases.
 *
 * Each replica reaches the simulator through its own loopback address (r1 127.0.0.1, r2 .2, r3
 * .3; the simulator listens on 0.0.0.0), so the simulator pins every session to a replica: the
 * peaks per account count replicas bound at once apart from one replica's own retries.
 *
 * Real time: every wait is eventual with a generous limit; the takeover times are printed, and
 * only lower bounds are asserted. The upper bounds live in the fake-clock tests of
 * test/bridge/ownership/.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import postgres from 'pg';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BindPeak } from '../../src/simulator/simulator.js';
import { type CliChild, killAllChildren, startCli } from '../helpers/cli-child.js';
import { eventually } from '../helpers/eventually.js';
import { type PostgresServer, postgresUnavailable, startPostgres } from '../helpers/postgres-server.js';
import { type StartedSimulator, startSimulator } from '../helpers/simulator.js';

const unavailable = postgresUnavailable();
const TTL_MS = 6_000;
const RENEW_MS = 1_500;
const SENT = new Set(['submitted', 'delivery_pending', 'delivered']);
const SETTLED = new Set([...SENT, 'unknown', 'failed', 'rejected', 'undelivered']);
const BINDS = Array.from({ length: 9 }, (_, i) => `b${i + 1}`);

interface Summary {
  id: string;
  owner: string | null;
  status: string;
}

/** No account was ever bound from two replicas at once (api1, created through the API, binds through 127.0.0.1 everywhere). */
function expectOneReplicaEach(peaks: Record<string, BindPeak>): void {
  for (const id of BINDS) expect(peaks[id]?.origins ?? 0, id).toBeLessThanOrEqual(1);
  expect(Object.keys(peaks).length).toBeGreaterThan(0);
}

const SECRET = `whsec_${Buffer.from('replicas-e2e-secret-0123456789ab').toString('base64')}`;
const servers: http.Server[] = [];

/** A webhook receiver answering 204, keeping each request's webhook-id and message id. */
async function receiver(): Promise<{ url: string; received: { webhookId: string; messageId: string }[] }> {
  const received: { webhookId: string; messageId: string }[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { data: { id: string } };
      received.push({ webhookId: String(req.headers['webhook-id']), messageId: body.data.id });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, received };
}

interface Replica {
  name: string;
  serve: CliChild;
  base: string;
}

describe.skipIf(unavailable !== undefined)('three replicas on one PostgreSQL', () => {
  let pg: PostgresServer | undefined;
  let sim: StartedSimulator | undefined;
  let dir = '';
  beforeAll(async () => {
    pg = await startPostgres();
    sim = await startSimulator({ host: '0.0.0.0' });
    dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-replicas-'));
  }, 120_000);
  afterEach(() => killAllChildren());
  afterAll(async () => {
    killAllChildren();
    for (const server of servers.splice(0)) {
      server.closeAllConnections();
      server.close();
    }
    await sim?.close();
    await pg?.stop();
    if (dir !== '') rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  async function start(name: string, config: string): Promise<Replica> {
    const serve = startCli(['serve', '--config', config], { SMPP_BRIDGE_LEASE_OWNER: name });
    const base = String((await serve.line(/^smpp-bridge listening on /, 60_000)).url);
    return { name, serve, base };
  }

  async function binds(r: Replica): Promise<Summary[]> {
    const res = await fetch(`${r.base}/binds?limit=1000`);
    return ((await res.json()) as { binds: Summary[] }).binds;
  }

  /** Which replica runs each bind (healthy there), when every bind runs on exactly one of `live`. */
  async function placement(
    live: Replica[],
    ids: readonly string[],
  ): Promise<Map<string, string> | undefined> {
    const runs = new Map<string, string[]>();
    for (const r of live) {
      for (const b of await binds(r)) {
        if (b.owner === r.name && b.status === 'healthy') runs.set(b.id, [...(runs.get(b.id) ?? []), r.name]);
      }
    }
    const placed = new Map<string, string>();
    for (const id of ids) {
      const on = runs.get(id) ?? [];
      if (on.length !== 1) return undefined;
      placed.set(id, on[0]!);
    }
    return placed;
  }

  const countBy = (placed: Map<string, string>): Record<string, number> => {
    const counts: Record<string, number> = {};
    for (const name of placed.values()) counts[name] = (counts[name] ?? 0) + 1;
    return counts;
  };

  it('spreads the binds, sends every message once, and moves binds on kill -9 and SIGSTOP without binding one twice', {
    timeout: 300_000,
  }, async () => {
    const hooks = await receiver();
    const url = await pg!.createDatabase('replicas');
    // The same binds on every replica, each pointing them at its own loopback address.
    const configOf = (name: string) => join(dir, `${name}.yaml`);
    const host = (name: string) => `127.0.0.${name.slice(1)}`;
    for (const name of ['r1', 'r2', 'r3']) {
      writeFileSync(
        configOf(name),
        [
          'http: { host: 127.0.0.1, port: 0 }',
          'log: { level: info }',
          `store: { url: ${JSON.stringify(url)} }`,
          `leases: { ttlMs: ${TTL_MS}, renewIntervalMs: ${RENEW_MS} }`,
          'webhooks:',
          '  pollIntervalMs: 200',
          '  endpoints:',
          `    - { id: rx, url: ${JSON.stringify(hooks.url)}, secret: ${JSON.stringify(SECRET)}, events: [message.submitted] }`,
          'defaults: { enquireLinkIntervalMs: 2000, reconnect: { initialDelayMs: 200, maxDelayMs: 1000 } }',
          'binds:',
          ...BINDS.map(
            (id) =>
              `  - { id: ${id}, host: ${host(name)}, port: ${sim!.port}, systemId: ${id}, password: pw }`,
          ),
        ].join('\n'),
      );
    }
    // Migrations run under a lock: three replicas starting together do not race.
    const replicas = await Promise.all(['r1', 'r2', 'r3'].map((name) => start(name, configOf(name))));
    const [r1, r2, r3] = replicas as [Replica, Replica, Replica];

    // 1. Spread: 3 binds each, every bind on exactly one replica; the others name its owner.
    const spread = await eventually(async () => {
      const placed = await placement(replicas, BINDS);
      return placed && Object.values(countBy(placed)).every((n) => n === 3) ? placed : undefined;
    }, 'the binds spread 3/3/3');
    // Each replica's view is as of its last pass (one renew interval): they agree soon after.
    await eventually(
      async () => {
        for (const r of replicas) {
          for (const b of await binds(r)) {
            if (b.owner === r.name) continue;
            if (b.status !== 'standby' || b.owner !== spread.get(b.id)) return false;
          }
        }
        return true;
      },
      'every replica showing the others’ binds as standby with their owner',
      10_000,
    );

    // 2. A bind created through the API on r1 runs on exactly one replica.
    const created = await fetch(`${r1.base}/binds`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        id: 'api1',
        host: '127.0.0.1',
        port: sim!.port,
        systemId: 'api1',
        password: 'pw',
      }),
    });
    expect(created.status).toBe(201);
    await eventually(async () => (await placement(replicas, ['api1'])) !== undefined, 'api1 running once');
    const all = [...BINDS, 'api1'];

    // 3. Messages accepted by any replica are sent once.
    const ids: string[] = [];
    for (let i = 0; i < 30; i++) {
      const r = replicas[i % 3]!;
      const res = await fetch(`${r.base}/messages`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ to: '447700900001', from: 'e2e', text: `replicas #${i}#` }),
      });
      expect(res.status).toBe(202);
      ids.push(((await res.json()) as { id: string }).id);
    }
    const statuses = await eventually(
      async () => {
        const seen: string[] = [];
        for (const id of ids) {
          const m = (await (await fetch(`${r2.base}/messages/${id}`)).json()) as { status: string };
          if (!SETTLED.has(m.status)) return undefined;
          seen.push(m.status);
        }
        return seen;
      },
      'every message settled',
      120_000,
    );
    const texts = sim!.sim.messages().map((m) => m.payload.toString('latin1'));
    const sentIds: string[] = [];
    for (let i = 0; i < 30; i++) {
      const times = texts.filter((t) => t === `replicas #${i}#`).length;
      // Sent once; a part the bind's previous owner may have written when it changed hands (a
      // loaded machine can starve a replica past its lease deadline) is `unknown`, never resent.
      if (SENT.has(statuses[i]!)) {
        expect(times, `#${i} (${statuses[i]})`).toBe(1);
        sentIds.push(ids[i]!);
      } else {
        expect(['unknown'], `#${i}`).toContain(statuses[i]);
        expect(times, `#${i} (${statuses[i]})`).toBeLessThanOrEqual(1);
      }
    }
    expect(sentIds.length).toBeGreaterThan(0);
    // One message.submitted webhook per message submitted, across the replicas (a retry would
    // repeat its webhook-id; a second event under another id would be a duplicate delivery).
    await eventually(
      async () => sentIds.every((id) => hooks.received.some((r) => r.messageId === id)),
      'a webhook for every message submitted',
    );
    const idsByMessage = new Map<string, Set<string>>();
    for (const r of hooks.received) {
      idsByMessage.set(r.messageId, (idsByMessage.get(r.messageId) ?? new Set()).add(r.webhookId));
    }
    for (const id of sentIds) expect(idsByMessage.has(id), id).toBe(true);
    for (const [id, webhookIds] of idsByMessage) expect(webhookIds.size, id).toBe(1);
    expect(sim!.sim.bindPeaks()).toEqual(Object.fromEntries(all.map((id) => [id, 1])));
    expectOneReplicaEach(sim!.sim.bindPeakDetail({ reset: true }));

    // 4. kill -9 r3: the others take its binds; the SMSC never sees two sessions of one bind.
    const before = await placement(replicas, all);
    const lost = [...before!].filter(([, name]) => name === 'r3').map(([id]) => id);
    expect(lost.length).toBeGreaterThan(0);
    const killedAt = Date.now();
    r3.serve.process.kill('SIGKILL');
    await r3.serve.exited;
    // When its leases expire by the database's clock (this host's clock too).
    const db = new postgres.Client({ connectionString: url });
    await db.connect();
    const { rows } = await db.query(
      "SELECT bind_id, expires_at FROM bind_leases WHERE owner = 'r3' ORDER BY expires_at",
    );
    await db.end();
    expect(rows.map((r: { bind_id: string }) => r.bind_id).sort()).toEqual([...lost].sort());
    const firstExpiry = Number(rows[0].expires_at);
    await eventually(async () => (await placement([r1, r2], all)) !== undefined, 'r3’s binds taken over');
    const takeoverMs = Date.now() - killedAt;
    console.log(`takeover after kill -9: ${takeoverMs} ms for ${lost.length} binds (TTL ${TTL_MS} ms)`);
    // Nobody connected for them before their leases expired.
    const connected = sim!.sim.sessions().filter((x) => lost.includes(x.systemId ?? ''));
    expect(connected).toHaveLength(lost.length);
    for (const x of connected)
      expect(Date.parse(x.since), x.systemId ?? '').toBeGreaterThanOrEqual(firstExpiry);
    expect(Math.max(...Object.values(sim!.sim.bindPeaks()))).toBe(1);
    expectOneReplicaEach(sim!.sim.bindPeakDetail());

    // 5. r3 comes back under its name and takes a share again (binds move back).
    const r3b = await start('r3', configOf('r3'));
    const back = [r1, r2, r3b];
    await eventually(async () => {
      const placed = await placement(back, all);
      // 10 binds over three: 4, 3, 3 (one more for the first in name order).
      const counts = placed && countBy(placed);
      return counts && counts.r1 === 4 && counts.r2 === 3 && counts.r3 === 3;
    }, 'the binds spread again over three: 4/3/3');
    expect(Math.max(...Object.values(sim!.sim.bindPeaks()))).toBe(1);
    expectOneReplicaEach(sim!.sim.bindPeakDetail({ reset: true }));

    // 6. SIGSTOP r2 beyond the TTL: its binds move; its frozen sockets stay open meanwhile.
    const frozen = [...(await placement(back, all))!].filter(([, n]) => n === 'r2').map(([id]) => id);
    r2.serve.process.kill('SIGSTOP');
    const stoppedAt = Date.now();
    await eventually(async () => (await placement([r1, r3b], all)) !== undefined, 'r2’s binds moved');
    console.log(`takeover after SIGSTOP: ${Date.now() - stoppedAt} ms for ${frozen.length} binds`);
    const sessionsOf = (id: string) => sim!.sim.sessions().filter((s) => s.systemId === id).length;
    // The SMSC still holds r2's frozen sessions next to the new owner's.
    expect(frozen.some((id) => sessionsOf(id) === 2)).toBe(true);

    // 7. SIGCONT: r2 closes its stale sessions at once and binds none of them with its old leases.
    r2.serve.process.kill('SIGCONT');
    await eventually(
      async () => frozen.every((id) => sessionsOf(id) === 1),
      'r2’s stale sessions closed',
      30_000,
    );
    await r2.serve.line(/bind leases could not be renewed in time|bind lease lost/, 30_000);
    // Later the three share the binds again, each bind on one replica.
    await eventually(async () => {
      const placed = await placement(back, all);
      return placed && Object.keys(countBy(placed)).length === 3;
    }, 'the binds spread again after SIGCONT');
    for (const id of all) expect(sessionsOf(id), id).toBe(1);
  });
});
