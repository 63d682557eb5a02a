import { describe, expect, it } from 'vitest';
import { editDistance, suggestKey } from '../../src/config/suggest.js';

const BIND_KEYS = [
  'id',
  'host',
  'port',
  'systemId',
  'password',
  'systemType',
  'windowSize',
  'enquireLinkIntervalMs',
];

describe('suggestKey', () => {
  it.each([
    ['prot', 'port'],
    ['hots', 'host'],
    ['system_id', 'systemId'],
    ['SYSTEMTYPE', 'systemType'],
    ['window-size', 'windowSize'],
    ['enquireLinkIntervalMS', 'enquireLinkIntervalMs'],
    ['enquireLinkInterval', 'enquireLinkIntervalMs'],
    ['pasword', 'password'],
  ])('%s → %s', (typo, known) => {
    expect(suggestKey(typo, BIND_KEYS)).toBe(known);
  });

  it.each(['colour', 'x', 'timeout', 'tls'])('no suggestion for the unrelated %s', (key) => {
    expect(suggestKey(key, BIND_KEYS)).toBeUndefined();
  });
});

describe('editDistance', () => {
  it.each([
    ['', '', 0],
    ['abc', '', 3],
    ['kitten', 'sitting', 3],
    ['port', 'prot', 1],
    ['same', 'same', 0],
  ])('%s ↔ %s = %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });
});
