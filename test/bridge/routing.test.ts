/**
 * Route selection (explicit, longest prefix, catch-all, default route) and bind selection by strategy
 * from each bind's cheap state.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type BindInfo,
  type BindState,
  buildRouteTable,
  pickBind,
  type Route,
  routeIssues,
  selectRoute,
} from '../../src/bridge/routing.js';

const binds: BindInfo[] = [
  { id: 'a', bindType: 'transceiver' },
  { id: 'b', bindType: 'transmitter' },
  { id: 'c', bindType: 'transceiver' },
  { id: 'rx', bindType: 'receiver' },
];
const up = (inFlight = 0, capacity = 10, pausedUntil = 0): BindState => ({
  bound: true,
  inFlight,
  capacity,
  pausedUntil,
});
const down: BindState = { bound: false, inFlight: 0, capacity: 10, pausedUntil: 0 };
const route = (strategy: Route['strategy'], ids = ['a', 'b', 'c']): Route => ({
  id: 'r',
  binds: ids,
  prefixes: [],
  strategy,
  idFormat: 'string',
});

describe('route table', () => {
  it('without routes, every transmitter-capable bind forms the default route', () => {
    const t = buildRouteTable(undefined, binds);
    expect(t.routes).toEqual([
      { id: 'default', binds: ['a', 'b', 'c'], prefixes: [], strategy: 'round_robin', idFormat: 'string' },
    ]);
    expect(buildRouteTable([], [{ id: 'rx', bindType: 'receiver' }]).routes).toEqual([]);
  });

  it('reports every config problem with its path', () => {
    const issues = routeIssues(
      [
        { id: 'x', binds: ['a', 'nope', 'rx'], prefixes: ['44', '4x'], strategy: 'random' as never, tps: 0 },
        { id: 'x', binds: [], idFormat: 'base64' as never },
      ],
      binds,
    );
    expect(issues.map((i) => i.path)).toEqual([
      'routes[0].binds[1]',
      'routes[0].binds[2]',
      'routes[0].prefixes[1]',
      'routes[0].strategy',
      'routes[0].tps',
      'routes[1].id',
      'routes[1].binds',
      'routes[1].idFormat',
    ]);
    expect(() => buildRouteTable([{ id: 'x', binds: ['nope'] }], binds)).toThrow(
      /routes\[0\]\.binds\[0\]: no bind "nope"/,
    );
  });
});

describe('selectRoute', () => {
  const table = buildRouteTable(
    [
      { id: 'uk', binds: ['a'], prefixes: ['44'] },
      { id: 'uk-mobile', binds: ['b'], prefixes: ['+447', '33'] },
      { id: 'rest', binds: ['c'] },
      { id: 'rest2', binds: ['a'] },
    ],
    binds,
  );

  it('longest matching prefix wins, whatever the config order; + is ignored', () => {
    expect(selectRoute(table, '+447700900123')).toMatchObject({ ok: true, route: { id: 'uk-mobile' } });
    expect(selectRoute(table, '442071234567')).toMatchObject({ ok: true, route: { id: 'uk' } });
  });

  it('no prefix matches: the first catch-all; an explicit route wins; unknown explicit route is an error', () => {
    expect(selectRoute(table, '15551234567')).toMatchObject({ ok: true, route: { id: 'rest' } });
    expect(selectRoute(table, '447700900123', 'rest2')).toMatchObject({ ok: true, route: { id: 'rest2' } });
    expect(selectRoute(table, '447700900123', 'nope')).toMatchObject({ ok: false, code: 'ROUTE_NOT_FOUND' });
  });

  it('NO_ROUTE when nothing matches and there is no catch-all', () => {
    const t = buildRouteTable([{ id: 'uk', binds: ['a'], prefixes: ['44'] }], binds);
    expect(selectRoute(t, '15551234567')).toMatchObject({ ok: false, code: 'NO_ROUTE' });
  });
});

describe('pickBind', () => {
  it('round_robin cycles over usable binds and skips unbound, paused and full ones', () => {
    const states = new Map([
      ['a', up()],
      ['b', up()],
      ['c', up()],
    ]);
    const picks: string[] = [];
    let cursor = 0;
    for (let i = 0; i < 4; i++) {
      const c = pickBind(route('round_robin'), states, 0, cursor);
      if (!c.ok) throw new Error('expected a bind');
      picks.push(c.bindId);
      cursor = c.nextCursor;
    }
    expect(picks).toEqual(['a', 'b', 'c', 'a']);
    const mixed = new Map([
      ['a', down],
      ['b', up(0, 10, 5_000)],
      ['c', up(10, 10)],
    ]);
    expect(pickBind(route('round_robin'), mixed, 1_000)).toEqual({ ok: false, wait: 'BUSY' });
    expect(pickBind(route('round_robin'), mixed, 5_000)).toMatchObject({ ok: true, bindId: 'b' });
  });

  it('least_outstanding takes the lowest window use', () => {
    const states = new Map([
      ['a', up(5, 10)],
      ['b', up(1, 2)],
      ['c', up(2, 10)],
    ]);
    expect(pickBind(route('least_outstanding'), states, 0)).toMatchObject({ ok: true, bindId: 'c' });
  });

  it('least_outstanding spreads ties from the cursor on, so equal binds share the load', () => {
    const states = new Map([
      ['a', up(1, 10)],
      ['b', up(1, 10)],
      ['c', up(1, 10)],
    ]);
    expect(pickBind(route('least_outstanding'), states, 0, 0)).toMatchObject({ bindId: 'a', nextCursor: 1 });
    expect(pickBind(route('least_outstanding'), states, 0, 1)).toMatchObject({ bindId: 'b', nextCursor: 2 });
    expect(pickBind(route('least_outstanding'), states, 0, 2)).toMatchObject({ bindId: 'c', nextCursor: 0 });
  });

  it('failover takes the first usable bind in config order', () => {
    expect(
      pickBind(
        route('failover'),
        new Map([
          ['a', up()],
          ['b', up()],
        ]),
        0,
        1,
      ),
    ).toMatchObject({ bindId: 'a' });
    expect(
      pickBind(
        route('failover'),
        new Map([
          ['a', down],
          ['b', up()],
        ]),
        0,
      ),
    ).toMatchObject({ bindId: 'b' });
  });

  it('nothing bound: wait NOT_BOUND (the message stays queued)', () => {
    expect(pickBind(route('round_robin'), new Map([['a', down]]), 0)).toEqual({
      ok: false,
      wait: 'NOT_BOUND',
    });
  });

  it('a pinned bind keeps every part of a message, waiting while it is busy or down', () => {
    const states = new Map([
      ['a', up()],
      ['b', up(10, 10)],
      ['c', down],
    ]);
    expect(pickBind(route('round_robin'), states, 0, 0, 'b')).toEqual({ ok: false, wait: 'BUSY' });
    expect(pickBind(route('round_robin'), states, 0, 0, 'c')).toEqual({ ok: false, wait: 'NOT_BOUND' });
    expect(pickBind(route('round_robin'), new Map([['b', up()]]), 0, 7, 'b')).toEqual({
      ok: true,
      bindId: 'b',
      nextCursor: 7,
    });
  });

  it('property: a pick is always a usable bind of the route, and waits only when none is usable', () => {
    const state = fc.record({
      bound: fc.boolean(),
      inFlight: fc.integer({ min: 0, max: 3 }),
      capacity: fc.constant(3),
      pausedUntil: fc.constantFrom(0, 100),
    });
    fc.assert(
      fc.property(
        fc.constantFrom('round_robin' as const, 'least_outstanding' as const, 'failover' as const),
        fc.array(state, { minLength: 3, maxLength: 3 }),
        fc.nat(10),
        fc.constantFrom(50, 200),
        (strategy, s, cursor, now) => {
          const states = new Map(['a', 'b', 'c'].map((id, i) => [id, s[i]!]));
          const anyUsable = s.some((x) => x.bound && now >= x.pausedUntil && x.inFlight < x.capacity);
          const c = pickBind(route(strategy), states, now, cursor);
          expect(c.ok).toBe(anyUsable);
          if (c.ok) {
            const x = states.get(c.bindId)!;
            expect(x.bound && now >= x.pausedUntil && x.inFlight < x.capacity).toBe(true);
          }
        },
      ),
    );
  });
});
