/**
 * The message path through the real `serve` process, killed with SIGKILL mid-flight and started
 * again on the same store file: nothing accepted over HTTP is lost or sent twice, nothing an SMSC
 * saw acknowledged with ESME_ROK is lost before its webhook, and a receipt becomes a signed
 * `message.delivered` webhook. The SMSC simulator runs in the test process; the webhook receiver
 * is a node:http server in the test process. Real time: every wait is eventual with a generous
 * limit, no upper bound on elapsed time is asserted.
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanMessageId } from '../../src/protocol/receipt.js';
import { type CliChild, killAllChildren, startCli } from '../helpers/cli-child.js';
import { eventually } from '../helpers/eventually.js';
import { type StartedSimulator, startSimulator } from '../helpers/simulator.js';

const dirs: string[] = [];
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  killAllChildren();
  for (const fn of cleanups.splice(0).reverse()) await fn();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-crash-'));
  dirs.push(dir);
  return dir;
}

function writeConfig(dir: string, lines: string[]): string {
  const path = join(dir, 'config.yaml');
  writeFileSync(path, [...lines, `store: { path: ${JSON.stringify(join(dir, 'store.db'))} }`].join('\n'));
  return path;
}

async function simulator(): Promise<StartedSimulator> {
  const sim = await startSimulator();
  cleanups.push(() => sim.close());
  return sim;
}

/** Starts serve and waits until it listens and its bind(s) are bound (readyz 200). */
async function startServe(config: string): Promise<{ serve: CliChild; base: string }> {
  const serve = startCli(['serve', '--config', config]);
  const base = String((await serve.line(/^smpp-bridge listening on /, 60_000)).url);
  await eventually(async () => (await fetch(`${base}/readyz`)).status === 200, 'readyz 200');
  return { serve, base };
}

async function kill9(serve: CliChild): Promise<void> {
  serve.process.kill('SIGKILL');
  expect(await serve.exited).toEqual({ code: null, signal: 'SIGKILL' });
}

interface Received {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
}

/** A webhook receiver answering 204 to everything, keeping every request. */
async function receiver(): Promise<{ url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({
        id: String(req.headers['webhook-id']),
        timestamp: String(req.headers['webhook-timestamp']),
        signature: String(req.headers['webhook-signature']),
        body: Buffer.concat(chunks).toString('utf8'),
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(
    () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  );
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`, received };
}

/** Standard Webhooks verification, written from the spec (not with the service's own signer). */
function verifySignature(secret: string, r: Received): boolean {
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${r.id}.${r.timestamp}.${r.body}`).digest();
  return r.signature.split(' ').some((sig) => {
    const [version, value] = sig.split(',');
    if (version !== 'v1' || value === undefined) return false;
    const given = Buffer.from(value, 'base64');
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

const newSecret = () => `whsec_${randomBytes(32).toString('base64')}`;

const SETTLED = new Set([
  'submitted',
  'delivery_pending',
  'delivered',
  'partially_delivered',
  'undelivered',
  'expired',
  'unknown',
  'rejected',
  'failed',
]);
const SENT = new Set(['submitted', 'delivery_pending', 'delivered', 'partially_delivered', 'undelivered']);

describe('kill -9 of serve', () => {
  it('during a burst of accepted messages: after restart each is submitted exactly once or failed with its reason, none missing', {
    timeout: 240_000,
  }, async () => {
    const sim = await simulator();
    // Slow answers keep messages queued and in flight when the process dies.
    sim.sim.setFault({ kind: 'delay', ms: 100 });
    const dir = tempDir();
    const config = writeConfig(dir, [
      'http: { host: 127.0.0.1, port: 0 }',
      'log: { level: info }',
      // Longer than the test may take: the restarted process takes its dead predecessor's lease at once.
      'outbound: { leaseTtlMs: 600000 }',
      'defaults: { reconnect: { initialDelayMs: 100, maxDelayMs: 500 } }',
      `binds: [{ id: b1, host: 127.0.0.1, port: ${sim.port}, systemId: esme, password: pw }]`,
    ]);
    let { serve, base } = await startServe(config);

    const TOTAL = 300;
    const KILL_AFTER = 150;
    const accepted = new Map<number, string>(); // counter -> message id
    let next = 0;
    let killed: Promise<void> | null = null;
    const post = async (n: number): Promise<void> => {
      try {
        const res = await fetch(`${base}/messages`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ to: '447700900001', from: 'e2e', text: `crash-test #${n}#` }),
        });
        if (res.status === 202) accepted.set(n, ((await res.json()) as { id: string }).id);
        else await res.body?.cancel();
      } catch {
        // The process died under this request: not accepted.
      }
      if (accepted.size >= KILL_AFTER && killed === null) killed = kill9(serve);
    };
    // 10 clients, each POSTing one message after another.
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (next < TOTAL && killed === null) await post(next++);
      }),
    );
    await (killed ?? kill9(serve));
    expect(accepted.size).toBeGreaterThanOrEqual(KILL_AFTER);
    const sentBeforeRestart = sim.sim.messages().length;
    // Nothing is sent while the process is down, and the SMSC answers at once from now on.
    sim.sim.clearFault();

    ({ serve, base } = await startServe(config));
    const final = new Map<string, { status: string; error?: { code?: string; message?: string } }>();
    await eventually(
      async () => {
        for (const id of accepted.values()) {
          if (final.has(id)) continue;
          const res = await fetch(`${base}/messages/${id}`);
          expect(res.status).toBe(200);
          const message = (await res.json()) as {
            status: string;
            error?: { code?: string; message?: string };
          };
          if (SETTLED.has(message.status)) final.set(id, message);
        }
        return final.size === accepted.size;
      },
      'every accepted message settled',
      120_000,
    );

    // The SMSC's view: how often each counter was submitted (any message, accepted or not).
    const submitted = new Map<number, number>();
    for (const m of sim.sim.messages()) {
      const n = Number(/#(\d+)#/.exec(m.payload.toString('latin1'))?.[1]);
      submitted.set(n, (submitted.get(n) ?? 0) + 1);
    }
    for (const [n, count] of submitted) expect(count, `message #${n} submitted ${count} times`).toBe(1);
    for (const [n, id] of accepted) {
      const message = final.get(id)!;
      if (SENT.has(message.status)) {
        expect(submitted.get(n), `message #${n} (${message.status})`).toBe(1);
      } else {
        // Written to the socket when the process died: not resent, failed with the reason.
        expect(['failed', 'unknown'], `message #${n}`).toContain(message.status);
        expect(message.error?.code, `message #${n}'s reason`).toBeTruthy();
      }
    }
    // Some went out before the kill, and the restarted process sent what was still queued.
    expect(sentBeforeRestart).toBeGreaterThan(0);
    expect(sim.sim.messages().length).toBeGreaterThan(sentBeforeRestart);
  });

  it('during an MO flood: every MO the SMSC saw acknowledged reaches the webhook receiver after restart, the others are redelivered and reach it too', {
    timeout: 240_000,
  }, async () => {
    const sim = await simulator();
    const hooks = await receiver();
    const secret = newSecret();
    // Not answered within 5 s (or the connection closed, or nobody bound): sent again, 100 times 2 s apart
    // at least (an SMSC that gave up after 100 s would fail this on a loaded machine, not the bridge).
    sim.sim.setCase({ kind: 'mo_redeliver', timeoutMs: 5_000, attempts: 100, delayMs: 2_000 });
    const dir = tempDir();
    const config = writeConfig(dir, [
      'http: { host: 127.0.0.1, port: 0 }',
      'log: { level: info }',
      'defaults: { reconnect: { initialDelayMs: 100, maxDelayMs: 500 } }',
      `binds: [{ id: r1, host: 127.0.0.1, port: ${sim.port}, systemId: esme, password: pw, bindType: receiver }]`,
      'webhooks:',
      '  pollIntervalMs: 200',
      '  endpoints:',
      `    - { id: rx, url: ${JSON.stringify(hooks.url)}, secret: ${JSON.stringify(secret)}, events: [message.received] }`,
    ]);
    let { serve } = await startServe(config);

    const COUNT = 400;
    const burst = sim.sim.startMoBurst({
      from: '447700900123',
      to: '12345',
      text: 'mo #{n}#',
      // Named: while serve is down, its MO wait for it to bind again (mo_redeliver's delayMs).
      systemId: 'esme',
      count: COUNT,
      ratePerSecond: 200,
    });
    const okRecords = () => sim.sim.deliveryRecords({ kind: 'mo', outcome: 'ok', limit: 100_000 });
    await eventually(async () => okRecords().length >= 100, '100 MO acknowledged');
    await kill9(serve);
    const okBeforeKill = okRecords().length;
    const burstAtKill = sim.sim.moBursts().find((b) => b.id === burst.id)!;
    expect(burstAtKill.delivered).toBeLessThan(COUNT);
    await sleep(1_000);

    ({ serve } = await startServe(config));
    const done = await eventually(
      async () => {
        const b = sim.sim.moBursts().find((x) => x.id === burst.id)!;
        return b.state === 'done' && b.delivered + b.failed === COUNT ? b : undefined;
      },
      'the burst done',
      180_000,
    );
    const records = sim.sim.deliveryRecords({ kind: 'mo', limit: 100_000 });
    // The SMSC gave up on none: each was acknowledged at last (else: what each MO given up got).
    const okIds = new Set(records.filter((r) => r.outcome === 'ok').map((r) => r.moId));
    const givenUp = new Map<string, string[]>();
    for (const r of records) {
      if (okIds.has(r.moId)) continue;
      givenUp.set(r.moId!, [...(givenUp.get(r.moId!) ?? []), `${r.attempt}:${r.status ?? r.reason}`]);
    }
    expect(done.delivered, JSON.stringify([...givenUp].slice(0, 5))).toBe(COUNT);
    // Some deliver_sm were not answered with ESME_ROK (in flight at the kill, or sent while nobody was bound).
    expect(records.some((r) => r.outcome !== 'ok')).toBe(true);
    expect(okBeforeKill).toBeGreaterThanOrEqual(100);

    const textOf = (r: Received): number =>
      Number(/#(\d+)#/.exec((JSON.parse(r.body) as { data: { text: string } }).data.text)?.[1]);
    await eventually(
      async () => new Set(hooks.received.map(textOf)).size >= COUNT,
      'a webhook for every MO',
      120_000,
    );
    const idsByText = new Map<number, Set<string>>();
    for (const r of hooks.received) {
      expect(verifySignature(secret, r)).toBe(true);
      const n = textOf(r);
      idsByText.set(n, (idsByText.get(n) ?? new Set()).add(r.id));
    }
    expect([...idsByText.keys()].sort((a, b) => a - b)).toEqual(
      Array.from({ length: COUNT }, (_, i) => i + 1),
    );
    // At least once, and a duplicate is the same event (the same webhook-id).
    const split = [...idsByText].filter(([, ids]) => ids.size > 1).map(([n]) => n);
    expect(split, 'MO delivered to the receiver under more than one webhook-id').toEqual([]);
  });
});

describe('a receipt through serve', () => {
  it('makes the message delivered and reaches the receiver as a signed message.delivered webhook', {
    timeout: 120_000,
  }, async () => {
    const sim = await simulator();
    const hooks = await receiver();
    const secret = newSecret();
    const dir = tempDir();
    const config = writeConfig(dir, [
      'http: { host: 127.0.0.1, port: 0 }',
      'log: { level: info }',
      `binds: [{ id: b1, host: 127.0.0.1, port: ${sim.port}, systemId: esme, password: pw }]`,
      'webhooks:',
      '  pollIntervalMs: 200',
      '  endpoints:',
      `    - { id: crm, url: ${JSON.stringify(hooks.url)}, secret: ${JSON.stringify(secret)}, events: [message.delivered] }`,
    ]);
    const { base } = await startServe(config);
    const res = await fetch(`${base}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to: '447700900002', from: 'e2e', text: 'receipt please', clientRef: 'r-1' }),
    });
    expect(res.status).toBe(202);
    const { id } = (await res.json()) as { id: string };

    const message = await eventually(async () => {
      const m = (await (await fetch(`${base}/messages/${id}`)).json()) as {
        status: string;
        parts: { smscMessageId?: string; receipt?: { stat?: string } }[];
      };
      return m.status === 'delivered' ? m : undefined;
    }, 'the message delivered');
    const smscId = message.parts[0]?.smscMessageId;
    expect(smscId).toBeTruthy();
    // The receipt the simulator wrote for that SMSC id was answered ESME_ROK (stored first).
    // The bridge commits before it answers: the SMSC may see the answer a moment after the API.
    // The API shows the id in its canonical form (lower case, no leading zeros: one in sixteen of the
    // simulator's hex ids starts with 0), so the simulator's is compared in that form too.
    const ours = (r: { messageId?: string }) => cleanMessageId(r.messageId ?? '') === smscId;
    await eventually(
      async () =>
        sim.sim.deliveryRecords({ kind: 'receipt' }).some((r) => ours(r) && r.outcome !== 'pending'),
      'the receipt answered',
    );
    expect(sim.sim.deliveryRecords({ kind: 'receipt' }).filter(ours)).toMatchObject([
      {
        stat: 'DELIVRD',
        outcome: 'ok',
      },
    ]);

    const hook = await eventually(async () => hooks.received[0], 'the webhook');
    expect(verifySignature(secret, hook)).toBe(true);
    expect(verifySignature(newSecret(), hook)).toBe(false);
    expect(Math.abs(Number(hook.timestamp) - Date.now() / 1000)).toBeLessThan(300);
    const body = JSON.parse(hook.body) as {
      type: string;
      data: { id: string; status: string; clientRef: string };
    };
    expect(body.type).toBe('message.delivered');
    expect(body.data).toMatchObject({ id, status: 'delivered', clientRef: 'r-1' });
    // One event subscribed, one request (a 2xx is not retried).
    await sleep(1_000);
    expect(hooks.received.map((r) => r.id)).toEqual([hook.id]);
  });
});
