/**
 * A minimal SMSC built directly on SmppSession (role 'smsc') over a net or tls server on a
 * loopback port, for tests and benchmarks that must not depend on the simulator. It accepts
 * every bind, answers submit_sm with a fresh message_id, and leaves everything else to the
 * session's own answers. `onRequest` replaces that behaviour for one test.
 */
import net from 'node:net';
import tls from 'node:tls';
import type { Pdu } from '../../src/protocol/pdu.js';
import { type SessionOptions, SmppSession } from '../../src/session/session.js';

export interface RawSmscOptions {
  /** Serve TLS with this key and certificate (PEM). */
  tls?: { key: string | Buffer; cert: string | Buffer };
  /** Options for each accepted session (role is always 'smsc'). */
  session?: Omit<SessionOptions, 'role' | 'onRequest'>;
  /** Handles the requests the session does not answer itself; the default accepts binds and submits. */
  onRequest?: (pdu: Pdu, session: SmppSession) => void;
  systemId?: string;
}

export interface RawSmsc {
  readonly port: number;
  /** Sessions accepted so far, oldest first. */
  readonly sessions: SmppSession[];
  /** Resolves with the next session accepted (or the oldest one not yet taken). */
  nextSession(): Promise<SmppSession>;
  close(): Promise<void>;
}

export function defaultSmscHandler(systemId: string): (pdu: Pdu, session: SmppSession) => void {
  let messageId = 0;
  return (pdu, session) => {
    switch (pdu.command) {
      case 'bind_transmitter':
      case 'bind_receiver':
      case 'bind_transceiver':
        session.acceptBind(pdu, systemId);
        break;
      case 'submit_sm':
        session.respond(pdu, { message_id: (++messageId).toString(16) });
        break;
      default:
        break;
    }
  };
}

export function startRawSmsc(options: RawSmscOptions = {}): Promise<RawSmsc> {
  const sessions: SmppSession[] = [];
  const waiting: ((s: SmppSession) => void)[] = [];
  let taken = 0;
  const handler = options.onRequest ?? defaultSmscHandler(options.systemId ?? 'RAW');
  const onSocket = (socket: net.Socket): void => {
    const session = new SmppSession(socket, { ...options.session, role: 'smsc', onRequest: handler });
    sessions.push(session);
    const wake = waiting.shift();
    if (wake) {
      taken++;
      wake(session);
    }
  };
  const server: net.Server = options.tls
    ? tls.createServer({ key: options.tls.key, cert: options.tls.cert }, onSocket)
    : net.createServer(onSocket);
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      const address = server.address() as net.AddressInfo;
      resolve({
        port: address.port,
        sessions,
        nextSession() {
          const ready = sessions[taken];
          if (ready) {
            taken++;
            return Promise.resolve(ready);
          }
          return new Promise((r) => waiting.push(r));
        },
        close() {
          for (const s of sessions) s.destroy();
          return new Promise((r) => server.close(() => r()));
        },
      });
    });
  });
}
