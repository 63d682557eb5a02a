/**
 * The message status from its parts: order-independent, every part counts, final statuses stick.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  computeMessageStatus,
  keepFinal,
  type MessageFacts,
  PART_OUTCOME_BY_STAT,
  type PartFacts,
  partOutcome,
  partOutcomeOfMessageState,
  receiptStat,
  registeredDeliveryFor,
  validityExpired,
} from '../../src/bridge/message-status.js';
import { CommandStatus } from '../../src/protocol/command-status.js';
import { MessageState } from '../../src/protocol/constants.js';
import { parseReceipt, type ReceiptStat } from '../../src/protocol/receipt.js';

const NOW = 1_700_000_000_000;
const accepted = (id: string, receipts?: ReceiptStat[]): PartFacts =>
  receipts
    ? { submit: { kind: 'accepted', messageId: id }, receipts }
    : { submit: { kind: 'accepted', messageId: id } };
const pending: PartFacts = { submit: { kind: 'pending' } };
const facts = (parts: PartFacts[], extra: Partial<MessageFacts> = {}): MessageFacts => ({
  parts,
  receiptPolicy: 'final',
  ...extra,
});
const status = (f: MessageFacts) => computeMessageStatus(f, NOW).status;

describe('computeMessageStatus: submission', () => {
  it('queued until every part is accepted; scheduled while sendAt is ahead and nothing went out', () => {
    expect(status(facts([pending, pending]))).toBe('queued');
    expect(status(facts([accepted('a'), pending]))).toBe('queued');
    expect(status(facts([pending], { sendAt: NOW + 1 }))).toBe('scheduled');
    expect(status(facts([pending], { sendAt: NOW }))).toBe('queued');
  });

  it('submitted when every part got ESME_ROK; final only when no receipt was asked for', () => {
    const v = computeMessageStatus(facts([accepted('a'), accepted('b')]), NOW);
    expect(v).toMatchObject({ status: 'submitted', final: false });
    const none = computeMessageStatus(facts([accepted('a')], { receiptPolicy: 'none' }), NOW);
    expect(none).toMatchObject({ status: 'submitted', final: true });
  });

  it('a permanent error on any part rejects the message with the SMPP status, even if other parts went', () => {
    const v = computeMessageStatus(
      facts([
        accepted('a'),
        { submit: { kind: 'rejected', commandStatus: CommandStatus.ESME_RINVDSTADR, permanent: true } },
      ]),
      NOW,
    );
    expect(v).toMatchObject({
      status: 'rejected',
      final: true,
      error: { code: 'SMSC_REJECTED', smppStatus: 0x0b, statusName: 'ESME_RINVDSTADR', permanent: true },
    });
  });

  it('a settled temporary status means retries ran out: failed RETRIES_EXHAUSTED, not permanent', () => {
    const v = computeMessageStatus(
      facts([{ submit: { kind: 'rejected', commandStatus: 0x08, permanent: false } }]),
      NOW,
    );
    expect(v).toMatchObject({
      status: 'failed',
      error: { code: 'RETRIES_EXHAUSTED', smppStatus: 8, statusName: 'ESME_RSYSERR', permanent: false },
    });
  });

  it('a response timeout fails the message with RESPONSE_TIMEOUT', () => {
    const v = computeMessageStatus(facts([accepted('a'), { submit: { kind: 'timeout' } }]), NOW);
    expect(v).toMatchObject({ status: 'failed', final: true, error: { code: 'RESPONSE_TIMEOUT' } });
  });

  it('path failures and cancel win over the parts', () => {
    for (const failure of ['VALIDITY_EXPIRED', 'NO_ROUTE', 'RETRIES_EXHAUSTED'] as const) {
      expect(computeMessageStatus(facts([pending], { failure }), NOW)).toMatchObject({
        status: 'failed',
        final: true,
        error: { code: failure },
      });
    }
    expect(computeMessageStatus(facts([pending], { canceled: true }), NOW)).toMatchObject({
      status: 'canceled',
      final: true,
    });
  });
});

describe('computeMessageStatus: receipts', () => {
  it('delivered only when EVERY part has DELIVRD', () => {
    expect(status(facts([accepted('a', ['DELIVRD']), accepted('b')]))).toBe('delivery_pending');
    expect(status(facts([accepted('a', ['DELIVRD']), accepted('b', ['DELIVRD'])]))).toBe('delivered');
  });

  it('mixed final outcomes: partially_delivered, expired, unknown, undelivered', () => {
    expect(status(facts([accepted('a', ['DELIVRD']), accepted('b', ['UNDELIV'])]))).toBe(
      'partially_delivered',
    );
    expect(status(facts([accepted('a', ['EXPIRED']), accepted('b', ['EXPIRED'])]))).toBe('expired');
    expect(status(facts([accepted('a', ['EXPIRED']), accepted('b', ['UNKNOWN'])]))).toBe('unknown');
    expect(status(facts([accepted('a', ['EXPIRED']), accepted('b', ['REJECTD'])]))).toBe('undelivered');
    expect(status(facts([accepted('a', ['DELETED'])]))).toBe('undelivered');
  });

  it('ACCEPTD and ENROUTE are not final: delivery_pending', () => {
    expect(computeMessageStatus(facts([accepted('a', ['ACCEPTD'])]), NOW)).toMatchObject({
      status: 'delivery_pending',
      final: false,
    });
    expect(status(facts([accepted('a', ['ENROUTE'])]))).toBe('delivery_pending');
  });

  it('a part: the first final receipt wins; a late ENROUTE or a second final does not change it', () => {
    expect(partOutcome(['ENROUTE', 'DELIVRD', 'ENROUTE'])).toBe('delivered');
    expect(partOutcome(['DELIVRD', 'UNDELIV'])).toBe('delivered');
    expect(partOutcome(['ENROUTE', 'ACCEPTD'])).toBe('pending');
    expect(partOutcome(undefined)).toBe('pending');
  });

  it('a parsed receipt: the TLV state wins; an intermediate notification never settles a part', () => {
    const tlvs = [
      { tag: 0x001e, value: 'abc' },
      { tag: 0x0427, value: MessageState.DELIVERED },
    ];
    const final = parseReceipt({ esm_class: 0x04, short_message: 'id:abc stat:UNDELIV', tlvs });
    expect(final && receiptStat(final)).toBe('DELIVRD');
    const intermediate = parseReceipt({ esm_class: 0x20, tlvs });
    expect(intermediate && receiptStat(intermediate)).toBe('ENROUTE');
    const accepted = parseReceipt({
      esm_class: 0x04,
      short_message: 'id:abc sub:001 dlvrd:000 stat:ACCEPTD err:000',
    });
    expect(accepted && receiptStat(accepted)).toBe('ACCEPTD');
  });

  it('every stat word and message_state value is mapped explicitly', () => {
    const finals = Object.entries(PART_OUTCOME_BY_STAT).filter(([, o]) => o !== 'pending');
    expect(finals.map(([s]) => s).sort()).toEqual(
      ['DELETED', 'DELIVRD', 'EXPIRED', 'REJECTD', 'SKIPPED', 'UNDELIV', 'UNKNOWN'].sort(),
    );
    expect(partOutcomeOfMessageState(MessageState.DELIVERED)).toBe('delivered');
    expect(partOutcomeOfMessageState(MessageState.ACCEPTED)).toBe('pending');
    expect(partOutcomeOfMessageState(MessageState.REJECTED)).toBe('undelivered');
    expect(partOutcomeOfMessageState(42)).toBe('unknown');
  });

  it('property: the status does not depend on the order of the parts', () => {
    const stat = fc.constantFrom<ReceiptStat>(...(Object.keys(PART_OUTCOME_BY_STAT) as ReceiptStat[]));
    const part = fc.oneof(
      fc.constant<PartFacts>(pending),
      fc.constant<PartFacts>({ submit: { kind: 'timeout' } }),
      fc
        .constantFrom<[number, boolean]>([0x08, false], [0x0b, true], [0x58, false])
        .map<PartFacts>(([s, permanent]) => ({ submit: { kind: 'rejected', commandStatus: s, permanent } })),
      fc.array(stat, { maxLength: 3 }).map((r) => accepted('x', r)),
    );
    fc.assert(
      fc.property(
        fc
          .array(part, { minLength: 1, maxLength: 6 })
          .chain((parts) =>
            fc.tuple(
              fc.constant(parts),
              fc.shuffledSubarray(parts, { minLength: parts.length, maxLength: parts.length }),
            ),
          ),
        ([parts, shuffled]) => {
          const a = computeMessageStatus(facts(parts), NOW);
          const b = computeMessageStatus(facts(shuffled), NOW);
          expect(b.status).toBe(a.status);
          expect(b.final).toBe(a.final);
        },
      ),
    );
  });
});

describe('keepFinal and helpers', () => {
  it('a final status never changes; a non-final one moves on', () => {
    const delivered = computeMessageStatus(facts([accepted('a', ['DELIVRD'])]), NOW);
    const later = computeMessageStatus(facts([accepted('a', ['UNDELIV'])]), NOW);
    expect(keepFinal(delivered, later)).toBe(delivered);
    const submitted = computeMessageStatus(facts([accepted('a')]), NOW);
    expect(keepFinal(submitted, delivered)).toBe(delivered);
    expect(keepFinal(undefined, submitted)).toBe(submitted);
  });

  it('registered_delivery for each receipt policy', () => {
    expect(registeredDeliveryFor('final')).toBe(0x01);
    expect(registeredDeliveryFor('failure')).toBe(0x02);
    expect(registeredDeliveryFor('all')).toBe(0x11);
    expect(registeredDeliveryFor('none')).toBe(0x00);
  });

  it('validity expires at queuedAt + validitySeconds; none set never expires', () => {
    expect(validityExpired(NOW, 60, NOW + 59_999)).toBe(false);
    expect(validityExpired(NOW, 60, NOW + 60_000)).toBe(true);
    expect(validityExpired(NOW, undefined, NOW + 1e12)).toBe(false);
  });
});
