/**
 * The message store on its own: outcomes in time order whatever order they were scheduled in,
 * cancel and reschedule, a bound on size that forgets the oldest (and stays fast once full),
 * unique ids, and nothing left running after close.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { MessageState } from '../../src/protocol/constants.js';
import { FakeClock } from '../../src/session/clock.js';
import { type FinalStat, MessageStore, type StoredMessage } from '../../src/simulator/message-store.js';

const stores: MessageStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

/** A store on a fake clock: outcomes fire only when the test moves time. */
function store(options: ConstructorParameters<typeof MessageStore>[0] = {}): {
  s: MessageStore;
  finals: string[];
  clock: FakeClock;
} {
  const finals: string[] = [];
  const clock = new FakeClock();
  const s = new MessageStore({ ...options, clock, onFinal: (m) => finals.push(m.id) });
  stores.push(s);
  return { s, finals, clock };
}

function message(id: string, stat: FinalStat = 'DELIVRD'): StoredMessage {
  return {
    id,
    systemId: 'sys',
    sessionId: 1,
    command: 'submit_sm',
    serviceType: '',
    source: { ton: 5, npi: 0, addr: 'Brand' },
    destinations: [{ ton: 1, npi: 1, addr: '447700900123' }],
    esmClass: 0,
    dataCoding: 0,
    payload: Buffer.from('hi'),
    registeredDelivery: 1,
    submitDate: new Date(),
    state: MessageState.ENROUTE,
    stat: undefined,
    planned: { stat, err: '000' },
    finalDate: undefined,
  };
}

describe('MessageStore', () => {
  it('finalises messages in time order, whatever order they were added in', () => {
    const { s, finals, clock } = store();
    s.add(message('c'), 60);
    s.add(message('a'), 10);
    s.add(message('d', 'UNDELIV'), 80);
    s.add(message('b'), 30);
    expect(s.pendingCount).toBe(4);
    clock.advance(9);
    expect(finals).toEqual([]);
    clock.advance(1);
    expect(finals).toEqual(['a']);
    clock.advance(70);
    expect(finals).toEqual(['a', 'b', 'c', 'd']);
    expect(s.get('d')).toMatchObject({ stat: 'UNDELIV', state: MessageState.UNDELIVERABLE });
    expect(s.get('d')?.finalDate).toBeInstanceOf(Date);
    expect(s.pendingCount).toBe(0);
  });

  it('cancel makes a message DELETED at once and it never becomes final', () => {
    const { s, finals, clock } = store();
    const m = message('x');
    s.add(m, 20);
    s.add(message('y'), 20);
    s.cancel(m);
    expect(s.isPending(m)).toBe(false);
    expect(m).toMatchObject({ stat: 'DELETED', state: MessageState.DELETED });
    clock.advance(60);
    expect(finals).toEqual(['y']);
  });

  it('schedule moves an outcome later or earlier; the old time is ignored', () => {
    const { s, finals, clock } = store();
    const late = message('late');
    const early = message('early');
    s.add(late, 10);
    s.add(early, 200);
    s.schedule(late, 80);
    s.schedule(early, 5);
    clock.advance(79);
    expect(finals).toEqual(['early']);
    clock.advance(1);
    expect(finals).toEqual(['early', 'late']);
  });

  it('forgets the oldest messages past maxMessages, pending or not', () => {
    const { s, finals, clock } = store({ maxMessages: 3 });
    for (const id of ['m1', 'm2', 'm3', 'm4', 'm5']) s.add(message(id), 20);
    expect(s.size).toBe(3);
    expect(s.get('m1')).toBeUndefined();
    expect(s.get('m2')).toBeUndefined();
    expect(s.get('m5')).toBeDefined();
    clock.advance(60);
    expect(finals).toEqual(['m3', 'm4', 'm5']);
  });

  it('stays fast once full: evicting costs about what adding does', () => {
    // 300,000 adds through a 100,000 store against 300,000 adds that evict nothing, best of two
    // each, measured in turn so that machine load hits both alike. Evicting by walking Map.keys()
    // past deleted entries (the holes pile up between rehashes of a 100,000 map) made the first
    // several times slower; linear work keeps them close. The ratio is the check, not the time.
    const run = (maxMessages: number): number => {
      const { s } = store({ maxMessages });
      const t0 = performance.now();
      for (let i = 0; i < 300_000; i++) s.add(message(s.nextId()), 60_000);
      const ms = performance.now() - t0;
      expect(s.size).toBe(Math.min(maxMessages, 300_000));
      s.close();
      return ms;
    };
    const evicting: number[] = [];
    const plain: number[] = [];
    for (let round = 0; round < 2; round++) {
      evicting.push(run(100_000));
      plain.push(run(300_000));
    }
    expect(Math.min(...evicting)).toBeLessThan(Math.min(...plain) * 3);
  }, 300_000);

  it('gives unique ids in the chosen form', () => {
    const hex = store().s;
    const dec = store({ idFormat: 'decimal' }).s;
    const ids = new Set<string>();
    for (let i = 0; i < 1_000; i++) ids.add(hex.nextId());
    expect(ids.size).toBe(1_000);
    expect([...ids].every((id) => /^[0-9a-f]{16}$/.test(id))).toBe(true);
    expect(dec.nextId()).toMatch(/^\d{17}$/);
    // Two stores (two simulator runs) do not hand out the same ids.
    expect(store().s.nextId()).not.toBe(store().s.nextId());
  });

  it('close forgets everything, fires nothing more and takes nothing new', () => {
    const { s, finals, clock } = store();
    s.add(message('a'), 10);
    s.close();
    s.add(message('b'), 10);
    clock.advance(40);
    expect(finals).toEqual([]);
    expect(s.size).toBe(0);
  });
});
