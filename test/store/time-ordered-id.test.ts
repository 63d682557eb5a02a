// Message ids (outbound and MO) sort in the order they were made, within a millisecond too: GET
// /inbound's cursor (receivedAt, id) never skips a message stored after a page was read, and new rows
// append to the store's indexes instead of landing on random pages.
import { describe, expect, it } from 'vitest';
import { createTimeOrderedIdGenerator, newWebhookEventId } from '../../src/store/time-ordered-id.js';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('message ids', () => {
  it('are UUIDv7 that sort in creation order, within one millisecond and across many', () => {
    let t = Date.UTC(2026, 11, 7);
    const next = createTimeOrderedIdGenerator(() => t);
    const ids: string[] = [];
    for (let i = 0; i < 5_000; i++) {
      ids.push(next());
      if (i % 1_000 === 999) t += 1;
    }
    expect(ids.every((id) => UUID_V7.test(id))).toBe(true);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('keep increasing when the clock steps back', () => {
    let t = Date.UTC(2026, 11, 7, 12);
    const next = createTimeOrderedIdGenerator(() => t);
    const before = next();
    t -= 60_000;
    const after = next();
    expect(after > before).toBe(true);
  });

  it('carry the millisecond they were made in', () => {
    const t = Date.UTC(2026, 11, 7, 10, 30);
    const id = createTimeOrderedIdGenerator(() => t)();
    expect(Number.parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(t);
  });

  it('name webhook events too: evt_ and a UUIDv7, in the order they were made', () => {
    const ids = Array.from({ length: 2_000 }, () => newWebhookEventId());
    expect(
      ids.every((id) => /^evt_[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/.test(id)),
    ).toBe(true);
    expect([...ids].sort()).toEqual(ids);
  });
});
