/**
 * A manual probe the SMSC refuses (generic_nack or an error status on enquire_link): the link is
 * alive, the probe failed. The API answers 502 PROBE_REJECTED in the one error shape, naming the
 * status, and the bind's health is degraded PROBE_REJECTED until a probe is answered OK.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { App } from '../../src/http/app.js';
import { CommandStatus } from '../../src/protocol/command-status.js';
import { bindOptions, type Harness, startHarness, waitBound } from './harness.js';

let h: Harness;
let app: App;

beforeAll(async () => {
  h = await startHarness();
  h.registry.add(bindOptions('refused', h.port, { minProbeIntervalMs: 0 }));
  h.registry.startAll();
  await waitBound(h.registry.get('refused')!);
  app = await h.app();
});

afterAll(async () => {
  await h?.close();
});

describe('POST /binds/:id/enquire refused by the SMSC', () => {
  it('answers 502 PROBE_REJECTED with the status; health is degraded PROBE_REJECTED until answered OK', async () => {
    const fault = h.simulator.setFault({ kind: 'generic_nack', status: CommandStatus.ESME_RINVCMDID });
    const res = await app.inject({ method: 'POST', url: '/binds/refused/enquire' });
    expect(res.statusCode).toBe(502);
    const body = res.json() as { code: string; message: string; details: Record<string, unknown> };
    expect(body).toMatchObject({
      code: 'PROBE_REJECTED',
      details: {
        bindId: 'refused',
        commandStatus: CommandStatus.ESME_RINVCMDID,
        statusName: 'ESME_RINVCMDID',
      },
    });
    expect(body.message).toContain('ESME_RINVCMDID');
    expect(typeof body.details.rttMs).toBe('number');

    const health = await app.inject({ method: 'GET', url: '/binds/refused/health' });
    expect(health.statusCode).toBe(200);
    expect(health.json()).toMatchObject({ status: 'degraded', code: 'PROBE_REJECTED' });

    h.simulator.clearFault(fault);
    const ok = await app.inject({ method: 'POST', url: '/binds/refused/enquire' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ ok: true, commandStatus: 0 });
    const after = await app.inject({ method: 'GET', url: '/binds/refused/health' });
    expect(after.json()).toMatchObject({ status: 'healthy', code: 'OK' });
  });
});
