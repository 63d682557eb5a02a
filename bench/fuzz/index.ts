/**
 * The codec fuzzer at scale: 1M random and mutated frames through Framer → decodePdu → encodePdu →
 * decodePdu with the invariant of test/protocol/fuzz.test.ts, printing throughput and outcomes.
 *
 *   npm run bench -- fuzz [--inputs 1000000] [--seed 1]
 *
 * A violation stops the run and prints the input as hex, ready to become a regression fixture.
 */
import {
  emptyCounts,
  FuzzViolation,
  fuzzInput,
  fuzzOne,
  seededRng,
} from '../../test/protocol/fixtures/fuzz.js';

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isInteger(v) && v > 0 ? v : fallback;
}

const INPUTS = arg('inputs', 1_000_000);
const SEED = arg('seed', 1);

function main(): void {
  const rng = seededRng(SEED);
  const counts = emptyCounts();
  const started = performance.now();
  try {
    for (let i = 0; i < INPUTS; i++) {
      fuzzOne(fuzzInput(rng), rng, counts);
      if ((i + 1) % 100_000 === 0) process.stderr.write(`${i + 1} inputs\r`);
    }
  } catch (e) {
    if (!(e instanceof FuzzViolation)) throw e;
    console.error(`\nINVARIANT BROKEN after ${counts.inputs} inputs (seed ${SEED}): ${e.message}`);
    if (e.cause) console.error(e.cause);
    process.exitCode = 1;
    return;
  }
  const seconds = (performance.now() - started) / 1000;
  process.stderr.write('\n');
  const rate = (n: number) => `${Math.round(n / seconds / 1000)}k/s`;
  console.log(
    `node ${process.version}, seed ${SEED}: ${INPUTS} inputs in ${seconds.toFixed(1)} s, invariant held`,
  );
  console.log('');
  console.log('| outcome | count | per second |');
  console.log('|---|---:|---:|');
  const rows: [string, number][] = [
    ['inputs (mutated or random byte strings)', counts.inputs],
    ['frames out of the Framer', counts.frames],
    ['… decoded to a PDU', counts.pdus],
    ['… … re-encoded, and decoded back equal', counts.reencoded],
    ['… … refused by the encoder (SmppEncodeError)', counts.encodeRefused],
    ['… recoverable decode errors', counts.recoverable],
    ['unrecoverable framing errors', counts.unrecoverable],
    ['decodePdu on the raw input: PDU', counts.directOk],
    ['decodePdu on the raw input: recoverable', counts.directRecoverable],
    ['decodePdu on the raw input: unrecoverable', counts.directUnrecoverable],
  ];
  for (const [what, n] of rows) console.log(`| ${what} | ${n} | ${rate(n)} |`);
}

main();
