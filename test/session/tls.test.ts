/**
 * Sessions over TLS (reference §12: TLS simply wraps the TCP stream). The self-signed
 * certificate is made at test time with the `openssl` command line tool (test/helpers/tls-cert.ts).
 */
import tls from 'node:tls';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SmppDecodeError } from '../../src/protocol/errors.js';
import { connectSocket } from '../../src/session/connect.js';
import { SmppConnectError } from '../../src/session/errors.js';
import { SmppSession } from '../../src/session/session.js';
import { type RawSmsc, startRawSmsc } from '../helpers/raw-smsc.js';
import { makeTestCert, type TestCert } from '../helpers/tls-cert.js';

let key: string;
let cert: string;

let made: TestCert;
beforeAll(() => {
  made = makeTestCert('smpp-bridge-tls-');
  ({ key, cert } = made);
});

afterAll(() => {
  made.remove();
});

const smscs: RawSmsc[] = [];
const esmes: SmppSession[] = [];
afterEach(async () => {
  for (const s of esmes.splice(0)) s.destroy();
  for (const s of smscs.splice(0)) await s.close();
});

async function tlsSmsc(): Promise<RawSmsc> {
  const smsc = await startRawSmsc({ tls: { key, cert }, session: { enquireLinkIntervalMs: 0 } });
  smscs.push(smsc);
  return smsc;
}

describe('SMPP over TLS', () => {
  it('binds, probes, submits and unbinds through a verified TLS connection', async () => {
    const smsc = await tlsSmsc();
    const socket = await connectSocket({
      host: '127.0.0.1',
      port: smsc.port,
      connectTimeoutMs: 5_000,
      tls: { enabled: true, ca: cert },
    });
    expect((socket as tls.TLSSocket).authorized).toBe(true);
    const esme = new SmppSession(socket, { role: 'esme', enquireLinkIntervalMs: 0 });
    esmes.push(esme);
    await esme.bind('bind_transceiver', { system_id: 'bridge', password: 'secret' });
    const theirs = await smsc.nextSession();
    expect(theirs.state).toBe('bound_trx');
    expect(theirs.peerSystemId).toBe('bridge');

    const probe = await esme.probe();
    expect(probe).toMatchObject({ ok: true, commandStatus: 0 });
    const resp = await esme.request('submit_sm', {
      destination_addr: '447700900123',
      short_message: Buffer.from('hi'),
    });
    expect(resp).toMatchObject({ command: 'submit_sm_resp', command_status: 0, message_id: '1' });
    const fromSmsc = await theirs.probe();
    expect(fromSmsc.ok).toBe(true);

    await esme.close();
    await theirs.whenClosed();
    expect(esme.closeReason).toBe('local_close');
    expect(theirs.closeReason).toBe('peer_unbind');
  });

  it('an untrusted certificate fails the connect with SmppConnectError, before any session exists', async () => {
    const smsc = await tlsSmsc();
    const error = await connectSocket({
      host: '127.0.0.1',
      port: smsc.port,
      connectTimeoutMs: 5_000,
      tls: { enabled: true },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SmppConnectError);
    expect((error as Error).message).toMatch(/SELF_SIGNED|self.signed/i);
  });

  it('a TLS client on a plain SMPP port is recognised and the session closes with framing_lost', async () => {
    const smsc = await startRawSmsc({ session: { enquireLinkIntervalMs: 0 } });
    smscs.push(smsc);
    const client = tls.connect({ host: '127.0.0.1', port: smsc.port, rejectUnauthorized: false });
    client.on('error', () => {});
    const theirs = await smsc.nextSession();
    const decodeError = new Promise<SmppDecodeError>((resolve) => theirs.once('decodeError', resolve));
    await theirs.whenClosed();
    client.destroy();
    expect(theirs.closeReason).toBe('framing_lost');
    expect((await decodeError).message).toMatch(/TLS handshake/);
  });

  it('the TLS peer vanishing mid-session is a close reason, not an exception', async () => {
    const smsc = await tlsSmsc();
    const socket = await connectSocket({
      host: '127.0.0.1',
      port: smsc.port,
      connectTimeoutMs: 5_000,
      tls: { enabled: true, ca: cert },
    });
    const esme = new SmppSession(socket, { role: 'esme', enquireLinkIntervalMs: 0 });
    esmes.push(esme);
    await esme.bind('bind_transmitter', { system_id: 'bridge', password: 'secret' });
    const theirs = await smsc.nextSession();
    // The SMSC goes away before our submit_sm (written on the next tick) can reach it.
    const pending = esme.request('submit_sm', { destination_addr: '1' });
    theirs.destroy('local_close');
    await expect(pending).rejects.toMatchObject({ code: 'SMPP_ERR_SESSION_CLOSED' });
    await esme.whenClosed();
    expect(['peer_closed', 'socket_error']).toContain(esme.closeReason);
  });
});
