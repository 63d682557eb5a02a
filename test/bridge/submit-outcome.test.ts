/**
 * What to do with a submit_sm result: accept, pause-and-requeue on throttling, bounded retry,
 * reject, or unknown after a timeout (never resent unless the route opts in).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_SUBMIT_POLICY,
  decideSubmitOutcome,
  isThrottleStatus,
  type SubmitPolicy,
  throttlePauseMs,
} from '../../src/bridge/submit-outcome.js';
import { COMMAND_STATUS_TABLE, CommandStatus } from '../../src/protocol/command-status.js';

const first = { attempts: 1, throttleStreak: 0 };
const half = () => 0.5;
const ALMOST_ONE = 1 - 2 ** -53;

describe('decideSubmitOutcome', () => {
  it('ESME_ROK accepts with the message id', () => {
    expect(decideSubmitOutcome({ kind: 'response', commandStatus: 0, messageId: 'abc' }, first)).toEqual({
      action: 'accept',
      messageId: 'abc',
    });
  });

  it('ESME_RTHROTTLED and ESME_RMSGQFUL pause the bind and requeue, without spending an attempt', () => {
    for (const status of [CommandStatus.ESME_RTHROTTLED, CommandStatus.ESME_RMSGQFUL]) {
      // Even on the last attempt: throttling is not the message's fault.
      const d = decideSubmitOutcome(
        { kind: 'response', commandStatus: status },
        { attempts: DEFAULT_SUBMIT_POLICY.maxAttempts, throttleStreak: 0 },
        DEFAULT_SUBMIT_POLICY,
        half,
      );
      expect(d).toEqual({ action: 'pause_and_requeue', pauseMs: 750, commandStatus: status });
    }
  });

  it('the throttle pause doubles with the streak up to the cap and is never below half its bound', () => {
    const p = DEFAULT_SUBMIT_POLICY;
    expect([0, 1, 2, 3, 10].map((s) => throttlePauseMs(p, s, () => 0))).toEqual([
      500, 1_000, 2_000, 4_000, 15_000,
    ]);
    expect(throttlePauseMs(p, 100, () => ALMOST_ONE)).toBeLessThanOrEqual(30_000);
  });

  it('a temporary status retries until maxAttempts, then rejects as not permanent', () => {
    const r = { kind: 'response', commandStatus: CommandStatus.ESME_RSYSERR } as const;
    const d1 = decideSubmitOutcome(r, { attempts: 1, throttleStreak: 0 }, DEFAULT_SUBMIT_POLICY, half);
    expect(d1).toEqual({ action: 'retry', delayMs: 500, commandStatus: 8, rebind: false });
    const d2 = decideSubmitOutcome(r, { attempts: 2, throttleStreak: 0 }, DEFAULT_SUBMIT_POLICY, half);
    expect(d2).toMatchObject({ action: 'retry', delayMs: 1_000 });
    expect(decideSubmitOutcome(r, { attempts: 3, throttleStreak: 0 })).toEqual({
      action: 'reject',
      commandStatus: 8,
      permanent: false,
    });
  });

  it('a permanent status rejects at once', () => {
    expect(
      decideSubmitOutcome({ kind: 'response', commandStatus: CommandStatus.ESME_RINVDSTADR }, first),
    ).toEqual({
      action: 'reject',
      commandStatus: 0x0b,
      permanent: true,
    });
    // An unassigned status is permanent (command-status.ts): never retried blindly.
    expect(decideSubmitOutcome({ kind: 'response', commandStatus: 0x400 }, first)).toMatchObject({
      action: 'reject',
      permanent: true,
    });
  });

  it('a session fault (wrong bind state) retries with a rebind, bounded', () => {
    const r = { kind: 'response', commandStatus: CommandStatus.ESME_RINVBNDSTS } as const;
    expect(decideSubmitOutcome(r, first)).toMatchObject({ action: 'retry', rebind: true });
    expect(decideSubmitOutcome(r, { attempts: 3, throttleStreak: 0 })).toMatchObject({ action: 'reject' });
  });

  it('a response timeout or a close in flight is unknown: never resent by default', () => {
    expect(decideSubmitOutcome({ kind: 'timeout' }, first)).toEqual({
      action: 'unknown',
      reason: 'RESPONSE_TIMEOUT',
    });
    expect(decideSubmitOutcome({ kind: 'closed' }, first)).toEqual({
      action: 'unknown',
      reason: 'CONNECTION_CLOSED',
    });
  });

  it('a route that opts in resends after a timeout, within maxAttempts', () => {
    const policy: SubmitPolicy = { ...DEFAULT_SUBMIT_POLICY, resubmitOnTimeout: true };
    expect(decideSubmitOutcome({ kind: 'timeout' }, first, policy, half)).toMatchObject({ action: 'retry' });
    expect(
      decideSubmitOutcome({ kind: 'timeout' }, { attempts: 3, throttleStreak: 0 }, policy),
    ).toMatchObject({
      action: 'unknown',
    });
  });

  it('a PDU that never left is requeued', () => {
    expect(decideSubmitOutcome({ kind: 'not_sent' }, { attempts: 0, throttleStreak: 0 })).toEqual({
      action: 'requeue',
    });
  });

  it('property: every status, at every attempt, ends in a decision; only throttling is unbounded', () => {
    const statuses = COMMAND_STATUS_TABLE.map((s) => s.code);
    fc.assert(
      fc.property(
        fc.constantFrom(...statuses, 0x400, 0xffffffff),
        fc.integer({ min: 1, max: 10 }),
        fc.double({ min: 0, max: ALMOST_ONE, noNaN: true }),
        (commandStatus, attempts, r) => {
          const d = decideSubmitOutcome(
            { kind: 'response', commandStatus, messageId: 'm' },
            { attempts, throttleStreak: attempts },
            DEFAULT_SUBMIT_POLICY,
            () => r,
          );
          if (attempts >= DEFAULT_SUBMIT_POLICY.maxAttempts) {
            expect(['accept', 'reject', 'pause_and_requeue']).toContain(d.action);
          }
          if (d.action === 'pause_and_requeue') {
            expect(isThrottleStatus(commandStatus)).toBe(true);
            expect(d.pauseMs).toBeGreaterThanOrEqual(DEFAULT_SUBMIT_POLICY.throttleInitialPauseMs / 2);
            expect(d.pauseMs).toBeLessThanOrEqual(DEFAULT_SUBMIT_POLICY.throttleMaxPauseMs);
          }
          if (d.action === 'retry') {
            expect(d.delayMs).toBeGreaterThanOrEqual(0);
            expect(d.delayMs).toBeLessThan(DEFAULT_SUBMIT_POLICY.retryMaxDelayMs);
          }
        },
      ),
    );
  });
});
