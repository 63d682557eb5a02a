/**
 * The metric contract the Grafana dashboard and the alert rules are written against is what a
 * running service serves: `serve` with the message path (demo bind, SQLite store, one webhook
 * endpoint) exposes every smpp_* family of METRICS, with its type, and no other — after one message
 * went through, so the labelled series the rules select exist too.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningService, startService } from '../../src/cli/serve.js';
import { demoConfig } from '../../src/config/service-config.js';
import { METRICS } from './metric-contract.js';

let dir: string;
let service: RunningService;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-contract-'));
  const config = demoConfig();
  config.http = { ...config.http, host: '127.0.0.1', port: 0 };
  config.store = { ...config.store, path: join(dir, 'store.db') };
  config.webhooks = {
    ...config.webhooks,
    endpoints: [
      {
        id: 'crm',
        // Nothing listens there: deliveries fail and retry, which is fine for the contract.
        url: 'http://127.0.0.1:9/hooks',
        secrets: [`whsec_${Buffer.alloc(24, 7).toString('base64')}`],
        events: ['message.submitted'],
        routes: null,
        headers: {},
        concurrency: 1,
      },
    ],
  };
  service = await startService(config, pino({ level: 'silent' }));
});

afterAll(async () => {
  await service?.shutdown();
  rmSync(dir, { recursive: true, force: true });
});

/** `# TYPE name type` lines of an exposition. */
function typesOf(text: string): Record<string, string> {
  const types: Record<string, string> = {};
  for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) types[name!] = type!;
  return types;
}

describe('the metric contract, against a running serve with the message path', () => {
  it('is exactly the smpp_* families /metrics serves, with their types', async () => {
    const res = await fetch(`${service.url}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to: '447700900123', from: 'ACME', text: 'contract' }),
    });
    expect(res.status).toBe(202);
    const text = await (await fetch(`${service.url}/metrics`)).text();
    const served = Object.fromEntries(
      Object.entries(typesOf(text)).filter(([name]) => name.startsWith('smpp_')),
    );
    // Per-bind histograms are opt-in (metrics.perBindHistograms): test/http/metrics.test.ts covers them.
    const expected = { ...METRICS };
    delete (expected as Record<string, string>).smpp_bind_enquire_link_rtt_seconds;
    delete (expected as Record<string, string>).smpp_bind_pdus_total;
    expect(served).toEqual(expected);
    for (const series of [
      /^smpp_outbound_queued_parts \d+$/m,
      /^smpp_receipts_total\{result="orphaned"\} 0$/m,
      /^smpp_webhook_deliveries_total\{endpoint="crm",outcome="dead"\} 0$/m,
      /^smpp_webhook_outbox_oldest_pending_age_seconds\{endpoint="crm"\} [\d.e+-]+$/m,
      /^smpp_webhook_endpoint_disabled\{endpoint="crm"\} 0$/m,
    ]) {
      expect(text).toMatch(series);
    }
  });
});
