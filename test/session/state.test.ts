import { describe, expect, it } from 'vitest';
import type { CommandName } from '../../src/protocol/constants.js';
import {
  canTransition,
  inboundAllowed,
  isBound,
  outboundAllowed,
  type SessionRole,
  type SessionState,
} from '../../src/session/state.js';

const STATES: SessionState[] = [
  'open',
  'outbound',
  'binding',
  'bound_tx',
  'bound_rx',
  'bound_trx',
  'unbinding',
  'closed',
];
const BOUND: SessionState[] = ['bound_tx', 'bound_rx', 'bound_trx'];

describe('state transitions (reference §3.2)', () => {
  const allowed: [SessionState, SessionState][] = [
    ['open', 'binding'],
    ['open', 'outbound'],
    ['outbound', 'binding'],
    ['binding', 'bound_tx'],
    ['binding', 'bound_rx'],
    ['binding', 'bound_trx'],
    ['binding', 'open'], // bind refused
    ['open', 'bound_trx'], // SMSC side: a bind accepted
    ['outbound', 'bound_rx'],
    ['bound_tx', 'unbinding'],
    ['bound_rx', 'unbinding'],
    ['bound_trx', 'unbinding'],
    ['unbinding', 'closed'],
  ];
  const refused: [SessionState, SessionState][] = [
    ['bound_tx', 'bound_rx'],
    ['bound_trx', 'binding'],
    ['bound_trx', 'open'],
    ['unbinding', 'bound_trx'],
    ['unbinding', 'open'],
    ['outbound', 'bound_tx'], // after outbind the ESME binds as receiver or transceiver
    ['open', 'unbinding'],
    ['closed', 'open'],
  ];

  for (const [from, to] of allowed) {
    it(`allows ${from} -> ${to}`, () => expect(canTransition(from, to)).toBe(true));
  }
  for (const [from, to] of refused) {
    it(`refuses ${from} -> ${to}`, () => expect(canTransition(from, to)).toBe(false));
  }

  it('every live state can close, and closed is final', () => {
    for (const s of STATES) {
      if (s !== 'closed') expect(canTransition(s, 'closed')).toBe(true);
      expect(canTransition('closed', s)).toBe(false);
    }
  });

  it('isBound is true exactly for the three bound states', () => {
    expect(STATES.filter(isBound)).toEqual(BOUND);
  });
});

describe('allowed PDUs by role and state (reference §3.3)', () => {
  const where = (role: SessionRole, command: CommandName) =>
    STATES.filter((s) => inboundAllowed(role, command, s));

  it('an SMSC takes binds only before it is bound', () => {
    for (const bind of ['bind_transmitter', 'bind_receiver', 'bind_transceiver'] as const) {
      expect(where('smsc', bind)).toEqual(['open', 'outbound']);
    }
  });

  it('submit_sm and friends need a transmitting bind; replace_sm in TX and TRX (§15 #6)', () => {
    for (const c of ['submit_sm', 'submit_multi', 'query_sm', 'cancel_sm', 'replace_sm'] as const) {
      expect(where('smsc', c)).toEqual(['bound_tx', 'bound_trx']);
    }
  });

  it('deliver_sm reaches an ESME only on a receiving bind', () => {
    expect(where('esme', 'deliver_sm')).toEqual(['bound_rx', 'bound_trx']);
    expect(where('esme', 'alert_notification')).toEqual(['bound_rx', 'bound_trx']);
  });

  it('data_sm and unbind in every bound state, for both roles', () => {
    for (const role of ['esme', 'smsc'] as const) {
      expect(where(role, 'data_sm')).toEqual(BOUND);
      expect(where(role, 'unbind')).toEqual(BOUND);
    }
  });

  it('enquire_link in every live state; outbind only to an open ESME', () => {
    expect(where('esme', 'enquire_link')).toEqual(STATES.filter((s) => s !== 'closed'));
    expect(where('smsc', 'enquire_link')).toEqual(STATES.filter((s) => s !== 'closed'));
    expect(where('esme', 'outbind')).toEqual(['open']);
    expect(where('smsc', 'outbind')).toEqual([]);
  });

  it('an ESME never receives submit_sm, an SMSC never receives deliver_sm', () => {
    expect(where('esme', 'submit_sm')).toEqual([]);
    expect(where('smsc', 'deliver_sm')).toEqual([]);
  });

  it('what we may send mirrors what the peer may receive', () => {
    expect(STATES.filter((s) => outboundAllowed('esme', 'submit_sm', s))).toEqual(['bound_tx', 'bound_trx']);
    expect(STATES.filter((s) => outboundAllowed('smsc', 'deliver_sm', s))).toEqual(['bound_rx', 'bound_trx']);
    expect(STATES.filter((s) => outboundAllowed('esme', 'bind_transceiver', s))).toEqual([
      'open',
      'outbound',
    ]);
    expect(STATES.filter((s) => outboundAllowed('esme', 'enquire_link', s))).toEqual(
      STATES.filter((s) => s !== 'closed'),
    );
  });
});
