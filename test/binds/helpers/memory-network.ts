/**
 * A network in memory for supervisor tests on a FakeClock: `connect` (the supervisor's injectable
 * dependency) hands out one end of an in-memory socket pair and serves the other end with an
 * SmppSession in the SMSC role on the same clock. Behaviour is switchable at any time — refuse
 * binds, refuse connections, hang connects, go silent (blackhole), answer late — and the network
 * counts connections, live and at most at once, and records what the SMSC received.
 */
import type { Duplex } from 'node:stream';
import type { Pdu } from '../../../src/protocol/pdu.js';
import type { FakeClock } from '../../../src/session/clock.js';
import type { ConnectOptions } from '../../../src/session/connect.js';
import { SmppConnectError } from '../../../src/session/errors.js';
import { SmppSession } from '../../../src/session/session.js';
import { type MemorySocket, memorySocketPair, settle } from '../../helpers/memory-duplex.js';

export interface MemoryNetworkBehaviour {
  /** Refuse the TCP connection (ECONNREFUSED). */
  refuseConnect: boolean;
  /** Never answer the connect (until `releaseConnects`). */
  hangConnect: boolean;
  /** Answer binds with this command_status (0 accepts). */
  bindStatus: number;
  /** Receive everything and answer nothing, enquire_link included. */
  blackhole: boolean;
  /** Hold each answer this long (on the fake clock) before writing it. */
  answerDelayMs: number;
  /** Answer submit_sm with this status. */
  submitStatus: number;
  /** Leave submit_sm unanswered (the window fills up). */
  holdSubmits: boolean;
}

export interface Received {
  session: number;
  pdu: Pdu;
  at: number;
}

export class MemoryNetwork {
  readonly behaviour: MemoryNetworkBehaviour = {
    refuseConnect: false,
    hangConnect: false,
    bindStatus: 0,
    blackhole: false,
    answerDelayMs: 0,
    submitStatus: 0,
    holdSubmits: false,
  };
  /** SMSC sessions, oldest first. */
  readonly sessions: SmppSession[] = [];
  /** The client ends handed out, oldest first. */
  readonly clientSockets: MemorySocket[] = [];
  readonly received: Received[] = [];
  /** Clock times at which connect was called. */
  readonly connectAttempts: number[] = [];
  live = 0;
  maxLive = 0;
  private hung: { resolve: (s: Duplex) => void; reject: (e: Error) => void; options: ConnectOptions }[] = [];

  constructor(readonly clock: FakeClock) {}

  /** The supervisor's `connect` dependency. */
  readonly connect = (options: ConnectOptions): Promise<Duplex> => {
    this.connectAttempts.push(this.clock.now());
    if (this.behaviour.refuseConnect) {
      return Promise.reject(
        new SmppConnectError(`cannot connect to ${options.host}:${options.port}: ECONNREFUSED`),
      );
    }
    if (this.behaviour.hangConnect) {
      return new Promise((resolve, reject) => this.hung.push({ resolve, reject, options }));
    }
    return Promise.resolve(this.open());
  };

  /** Lets every hung connect succeed now (each gets a fresh connection). */
  releaseConnects(): MemorySocket[] {
    const sockets: MemorySocket[] = [];
    for (const h of this.hung.splice(0)) {
      const socket = this.open();
      sockets.push(socket);
      h.resolve(socket);
    }
    return sockets;
  }

  /** Opens a connection: the SMSC end is served at once; the client end is returned. */
  open(): MemorySocket {
    const [client, server] = memorySocketPair();
    this.live++;
    this.maxLive = Math.max(this.maxLive, this.live);
    let counted = true;
    const gone = (): void => {
      if (!counted) return;
      counted = false;
      this.live--;
    };
    // A connection counts as live until both ends are gone.
    let closedEnds = 0;
    const onClose = (): void => {
      if (++closedEnds === 2) gone();
    };
    client.on('close', onClose);
    server.on('close', onClose);
    client.on('error', () => {});
    this.clientSockets.push(client);
    const clock = this.clock;
    const b = this.behaviour;
    const smsc: SmppSession = new SmppSession(server, {
      role: 'smsc',
      clock,
      sessionInitTimeoutMs: 0,
      enquireLinkIntervalMs: 0,
      interceptor: (pdu) => {
        this.received.push({ session: smsc.id, pdu, at: clock.now() });
        return b.blackhole;
      },
      answerHook: (buf) => {
        if (b.answerDelayMs <= 0) return false;
        clock.setTimer(() => smsc.sendRaw(buf), b.answerDelayMs);
        return true;
      },
      onRequest: (pdu, s) => {
        switch (pdu.command) {
          case 'bind_transmitter':
          case 'bind_receiver':
          case 'bind_transceiver':
            if (b.bindStatus === 0) s.acceptBind(pdu, 'MEMSMSC');
            else s.rejectBind(pdu, b.bindStatus);
            return;
          case 'submit_sm':
            if (b.holdSubmits) return;
            s.respond(pdu, { command_status: b.submitStatus, message_id: b.submitStatus ? '' : 'm1' });
            return;
          default:
            s.respond(pdu);
        }
      },
    });
    this.sessions.push(smsc);
    return client;
  }

  /** The PDUs the SMSC received with this command, oldest first. */
  commands(command: string): Received[] {
    return this.received.filter((r) => r.pdu.command === command);
  }

  /** The newest SMSC session. */
  get last(): SmppSession | undefined {
    return this.sessions.at(-1);
  }

  /** Moves the fake clock in steps, letting socket events run after each step. */
  async advance(ms: number, stepMs = 10): Promise<void> {
    let left = ms;
    while (left > 0) {
      const step = Math.min(stepMs, left);
      this.clock.advance(step);
      left -= step;
      await settle(6);
    }
  }
}
