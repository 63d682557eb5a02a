import { describe, expect, it } from 'vitest';
import { emptyCounts, fuzzInput, fuzzOne, SEEDS, seededRng } from './fixtures/fuzz.js';

// 200k inputs in about ten seconds on the 2-core CI box; a fixed seed keeps failures reproducible
// (the violation message carries the input's hex: paste it into a codec test as a regression).
// The count is the bound, not the time: on a machine shared by two suites it may take minutes.
const INPUTS = 200_000;
const SEED = 0x5eed_c0de;

describe('fuzz: Framer + decodePdu + encodePdu on random and mutated frames', () => {
  it(`keeps the invariant for ${INPUTS} inputs (seed 0x${SEED.toString(16)})`, () => {
    const rng = seededRng(SEED);
    const counts = emptyCounts();
    for (let i = 0; i < INPUTS; i++) fuzzOne(fuzzInput(rng), rng, counts);

    expect(counts.inputs).toBe(INPUTS);
    // Every kind of outcome was reached, so the mutators really reach each path.
    expect(counts.pdus).toBeGreaterThan(INPUTS / 10);
    expect(counts.recoverable).toBeGreaterThan(INPUTS / 20);
    expect(counts.unrecoverable).toBeGreaterThan(INPUTS / 50);
    expect(counts.reencoded).toBeGreaterThan(INPUTS / 20);
    expect(counts.encodeRefused).toBeGreaterThan(INPUTS / 100);
    expect(counts.directUnrecoverable).toBeGreaterThan(0);
  }, 300_000);

  it('passes the unmutated seeds through unchanged', () => {
    const rng = seededRng(1);
    const counts = emptyCounts();
    for (const seed of SEEDS) fuzzOne(seed, rng, counts);
    expect(counts).toMatchObject({
      frames: SEEDS.length,
      pdus: SEEDS.length,
      recoverable: 0,
      unrecoverable: 0,
    });
    expect(counts.reencoded).toBe(SEEDS.length);
  });
});
