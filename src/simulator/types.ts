/**
 * The simulator's public types: its options, what it reports about sessions and counters, MO
 * messages and its events. simulator.ts re-exports them.
 */
import type { Logger } from '../logger.js';
import type { Pdu } from '../protocol/pdu.js';
import type { Tlv } from '../protocol/tlv.js';
import type { Clock } from '../session/clock.js';
import type { CloseReason, SessionState } from '../session/state.js';
import type { BindType, SimAccount } from './accounts.js';
import type { CaseScope, SimCase } from './cases.js';
import type { Fault, FaultScope } from './faults.js';
import type { MessageIdFormat } from './message-store.js';
import type { ReceiptOptions } from './receipts.js';

export interface SimulatorTlsOptions {
  key: string | Buffer;
  cert: string | Buffer;
  ca?: string | Buffer;
  /** Ask clients for a certificate (and reject those the CA does not sign). */
  requestCert?: boolean;
}

export interface SimulatorOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  /** Who may bind; absent = any system_id and password (logged at info). */
  accounts?: SimAccount[];
  tls?: SimulatorTlsOptions;
  /** The simulator's own enquire_link to bound clients after this much silence (0 = off, the default). */
  enquireLinkIntervalMs?: number;
  /** How long the simulator waits for an enquire_link_resp. Default 10000. */
  enquireLinkTimeoutMs?: number;
  /** A connection that has not bound within this long is closed. Default 10000 (0 = never). */
  sessionInitTimeoutMs?: number;
  receipts?: ReceiptOptions;
  logger?: Logger;
  maxPduLength?: number;
  /** deliver_sm in flight per session at once. Default 10. */
  windowSize?: number;
  /** system_id the simulator gives in bind_resp. Default 'SMPPSIM'. */
  systemId?: string;
  /** message_id form: 16 hex digits (default) or 17 decimal digits. */
  messageIdFormat?: MessageIdFormat;
  /** Messages kept for query_sm/cancel_sm/replace_sm. Default 100000. */
  maxMessages?: number;
  /** Connections at once; more are refused at accept. Default 10000. */
  maxConnections?: number;
  /** Faults switched on from the start (the config file's `faults`). */
  faults?: { fault: Fault; scope?: FaultScope }[];
  /** Message-path cases switched on from the start (the config file's `cases`; accounts add their own). */
  cases?: { case: SimCase; scope?: CaseScope }[];
  /** deliver_sm records kept for GET /deliveries (the oldest are forgotten). Default 10000. */
  maxDeliveryRecords?: number;
  /**
   * Every timer of the simulator and its sessions runs on this clock (answer delays, receipts,
   * its own enquire_link, throttle windows, session-init and TLS handshake deadlines). Default:
   * the real one; tests pass a FakeClock. Dates the simulator reports (submit and done dates
   * in receipts, query_sm's final_date) and SMPP times it resolves stay on the wall clock.
   */
  clock?: Clock;
}

/**
 * The most sessions bound at once for one system_id (bindPeakDetail). A session's origin is the
 * simulator's own address it arrived at: when each replica of a service points its binds at its
 * own loopback address (127.0.0.1, .2, .3), origins are replicas.
 */
export interface BindPeak {
  /** Sessions bound at once, from any origin. */
  sessions: number;
  /** Distinct origins with a session bound at once (two replicas both bound: 2). */
  origins: number;
  /** Sessions bound at once that arrived at one origin (one replica's own retry: 2). */
  perOrigin: number;
}

export interface SimSessionInfo {
  id: number;
  /** The bound system_id; null before a bind. */
  systemId: string | null;
  bindType: BindType | null;
  state: SessionState;
  /** `address:port` of the client. */
  remote: string;
  tls: boolean;
  /** When the connection was accepted (ISO 8601). */
  since: string;
  counters: { in: Record<string, number>; out: Record<string, number> };
}

export interface SimulatorCounters {
  /** PDUs received, by command, over every session so far. */
  in: Record<string, number>;
  /** PDUs sent, by command. */
  out: Record<string, number>;
  /** Binds accepted. */
  binds: number;
  /** Messages accepted (submit_sm, submit_multi, data_sm). */
  submits: number;
  /** Receipt deliver_sm written (retries included). */
  receiptsSent: number;
}

export interface MoMessage {
  from: string;
  to: string;
  text?: string;
  /** Default: GSM 7-bit (0) when the text fits, else UCS-2 (8). */
  dataCoding?: number;
  /** Only to sessions bound with this system_id; default one session of every bound system_id. */
  systemId?: string;
  tlvs?: Tlv[];
}

export interface SimulatorEvents {
  session: [SimSessionInfo];
  bind: [{ systemId: string; bindType: BindType; sessionId: number }];
  unbind: [{ systemId: string; bindType: BindType; sessionId: number; reason: CloseReason }];
  submit: [{ pdu: Pdu; messageId: string; systemId: string; sessionId: number }];
  receipt: [{ messageId: string; systemId: string; sessionId: number; stat: string }];
  close: [];
}
