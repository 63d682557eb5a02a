/**
 * Session states and the rules that depend on them (reference §3). One connection moves
 * open → binding → bound_* → unbinding → closed (or outbound → binding for outbind); a
 * session is used once and never leaves `closed`.
 */
import type { CommandName } from '../protocol/constants.js';

export type SessionState =
  | 'open'
  | 'outbound'
  | 'binding'
  | 'bound_tx'
  | 'bound_rx'
  | 'bound_trx'
  | 'unbinding'
  | 'closed';
export type BoundState = 'bound_tx' | 'bound_rx' | 'bound_trx';
export type SessionRole = 'esme' | 'smsc';

export type CloseReason =
  | 'local_close'
  | 'peer_unbind'
  | 'peer_closed'
  | 'socket_error'
  | 'framing_lost'
  | 'keepalive_timeout'
  | 'inactivity_timeout'
  | 'bind_timeout'
  | 'session_init_timeout'
  | 'bind_failed'
  /** The peer stopped reading: our unsent output stayed above the high-water mark too long. */
  | 'write_stalled'
  /** A PDU started arriving and did not complete within the frame timeout. */
  | 'frame_stalled';

const TRANSITIONS: Record<SessionState, readonly SessionState[]> = {
  open: ['binding', 'outbound', 'bound_tx', 'bound_rx', 'bound_trx', 'closed'],
  outbound: ['binding', 'bound_rx', 'bound_trx', 'closed'],
  binding: ['bound_tx', 'bound_rx', 'bound_trx', 'open', 'outbound', 'closed'],
  bound_tx: ['unbinding', 'closed'],
  bound_rx: ['unbinding', 'closed'],
  bound_trx: ['unbinding', 'closed'],
  unbinding: ['closed'],
  closed: [],
};

export function canTransition(from: SessionState, to: SessionState): boolean {
  return TRANSITIONS[from].includes(to);
}

export function isBound(state: SessionState): state is BoundState {
  return state === 'bound_tx' || state === 'bound_rx' || state === 'bound_trx';
}

export const BIND_STATE: Record<'bind_transmitter' | 'bind_receiver' | 'bind_transceiver', BoundState> = {
  bind_transmitter: 'bound_tx',
  bind_receiver: 'bound_rx',
  bind_transceiver: 'bound_trx',
};

const TX: readonly SessionState[] = ['bound_tx', 'bound_trx'];
const RX: readonly SessionState[] = ['bound_rx', 'bound_trx'];
const BOUND: readonly SessionState[] = ['bound_tx', 'bound_rx', 'bound_trx'];
const ANY_LIVE: readonly SessionState[] = ['open', 'outbound', 'binding', ...BOUND, 'unbinding'];

/** Requests an SMSC may receive from an ESME, by state (reference §3.3; replace_sm in TX and TRX, §15 #6). */
const SMSC_INBOUND: Partial<Record<CommandName, readonly SessionState[]>> = {
  bind_transmitter: ['open', 'outbound'],
  bind_receiver: ['open', 'outbound'],
  bind_transceiver: ['open', 'outbound'],
  unbind: BOUND,
  enquire_link: ANY_LIVE,
  submit_sm: TX,
  submit_multi: TX,
  query_sm: TX,
  cancel_sm: TX,
  replace_sm: TX,
  // 3.4 lists data_sm as E/M in every bound state.
  data_sm: BOUND,
  broadcast_sm: TX,
  query_broadcast_sm: TX,
  cancel_broadcast_sm: TX,
};

/** Requests an ESME may receive from an SMSC, by state. */
const ESME_INBOUND: Partial<Record<CommandName, readonly SessionState[]>> = {
  outbind: ['open'],
  unbind: BOUND,
  enquire_link: ANY_LIVE,
  deliver_sm: RX,
  data_sm: BOUND,
  alert_notification: RX,
};

/**
 * Whether a request received in `state` is allowed. `undefined` when the role never receives
 * that request at all (answer ESME_RINVCMDID... no: a known request in the wrong role is a
 * state error, ESME_RINVBNDSTS).
 */
export function inboundAllowed(role: SessionRole, command: CommandName, state: SessionState): boolean {
  const table = role === 'smsc' ? SMSC_INBOUND : ESME_INBOUND;
  return table[command]?.includes(state) ?? false;
}

/** Whether we may send this request in `state` (the mirror of the peer's inbound rules). */
export function outboundAllowed(role: SessionRole, command: CommandName, state: SessionState): boolean {
  if (command === 'enquire_link') return state !== 'closed';
  return inboundAllowed(role === 'smsc' ? 'esme' : 'smsc', command, state);
}
