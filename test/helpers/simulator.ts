/**
 * Shared helpers for tests that talk to the SMSC simulator over loopback: start one on a free
 * port, and connect our own ESME SmppSession to it (bound, or only connected). An ESME made by
 * connectEsme answers every deliver_sm with status 0 (or what `onDeliver` returns) and keeps the
 * ones it received in `inbox(session)`.
 */
import type { Pdu, PduOf } from '../../src/protocol/pdu.js';
import { type ConnectOptions, connectSocket } from '../../src/session/connect.js';
import { type BindCommand, type SessionOptions, SmppSession } from '../../src/session/session.js';
import { createSimulator, type SimulatorOptions, type SmscSimulator } from '../../src/simulator/simulator.js';

export interface StartedSimulator {
  sim: SmscSimulator;
  host: string;
  port: number;
  close(): Promise<void>;
}

export async function startSimulator(options: SimulatorOptions = {}): Promise<StartedSimulator> {
  const sim = createSimulator({ host: '127.0.0.1', port: 0, ...options });
  const { host, port } = await sim.listen();
  return { sim, host, port, close: () => sim.close() };
}

export interface EsmeOptions extends Partial<Omit<SessionOptions, 'role' | 'onRequest'>> {
  host?: string;
  bindType?: BindCommand;
  systemId?: string;
  password?: string;
  tls?: ConnectOptions['tls'];
  /** Status to answer a received deliver_sm with (null: no answer at all); default 0. */
  onDeliver?: (pdu: PduOf<'deliver_sm'>) => number | null;
}

const inboxes = new WeakMap<SmppSession, PduOf<'deliver_sm'>[]>();

/** deliver_sm the ESME received so far, oldest first. */
export function inbox(session: SmppSession): PduOf<'deliver_sm'>[] {
  return inboxes.get(session) ?? [];
}

/** Connects an ESME session (role 'esme') without binding it. */
export async function openEsme(port: number, options: EsmeOptions = {}): Promise<SmppSession> {
  const socket = await connectSocket({
    host: options.host ?? '127.0.0.1',
    port,
    connectTimeoutMs: 2_000,
    ...(options.tls ? { tls: options.tls } : {}),
  });
  const received: PduOf<'deliver_sm'>[] = [];
  const {
    host: _h,
    bindType: _b,
    systemId: _s,
    password: _p,
    tls: _t,
    onDeliver,
    ...sessionOptions
  } = options;
  const session = new SmppSession(socket, {
    enquireLinkIntervalMs: 0,
    ...sessionOptions,
    role: 'esme',
    onRequest: (pdu: Pdu, s: SmppSession) => {
      if (pdu.command === 'deliver_sm') {
        received.push(pdu);
        const status = onDeliver ? onDeliver(pdu) : 0;
        if (status !== null) s.respond(pdu, { command_status: status });
      } else if (pdu.command === 'data_sm') {
        s.respond(pdu, { message_id: '' });
      }
    },
  });
  inboxes.set(session, received);
  return session;
}

/** Connects and binds an ESME session (bind_transceiver as `esme`/`secret` unless told). */
export async function connectEsme(port: number, options: EsmeOptions = {}): Promise<SmppSession> {
  const session = await openEsme(port, options);
  try {
    await session.bind(options.bindType ?? 'bind_transceiver', {
      system_id: options.systemId ?? 'esme',
      password: options.password ?? 'secret',
    });
  } catch (error) {
    session.destroy();
    throw error;
  }
  return session;
}

/** Polls until `check` returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => T | undefined | false,
  timeoutMs = 3_000,
  what = 'condition',
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** Resolves with the session's close reason once it closes. */
export function closeReason(session: SmppSession): Promise<string | undefined> {
  return session.whenClosed().then(() => session.closeReason);
}
