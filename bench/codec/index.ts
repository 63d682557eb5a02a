/**
 * Codec throughput: encode and decode ops/s of our codec and of the npm package `smpp` (node-smpp)
 * on the same PDUs, in one process, interleaved round by round so both see the same machine noise.
 *
 *   npm run bench -- codec [--rounds 7] [--ms 300]
 *
 * What is measured, for both: encode = one call turning an already built PDU object into a Buffer
 * (ours: encodePdu(pdu); node-smpp: pdu.toBuffer() on a prebuilt smpp.PDU), decode = one call
 * turning a whole frame into a PDU object (decodePdu(frame) / smpp.PDU.fromBuffer(frame)).
 * node-smpp's decode also converts short_message to text by data_coding (it cannot be turned
 * off); ours returns bytes. The binary submit_sm row (data_coding 4) shows the ratio without that.
 */
import smpp from 'smpp';
import { decodePdu, encodePdu } from '../../src/protocol/codec.js';
import { TlvTag } from '../../src/protocol/constants.js';
import { createPdu, type Pdu } from '../../src/protocol/pdu.js';

interface Case {
  name: string;
  ours: Pdu;
  theirs: smpp.PDU;
}

const TEXT = 'Your verification code is 482913. Expires in 5 min.';
const RECEIPT =
  'id:1A2B3C sub:001 dlvrd:001 submit date:2501151230 done date:2501151231 stat:DELIVRD err:000 text:Hello';

function submit(dataCoding: number): Case {
  const fields = {
    sequence_number: 2,
    source_addr_ton: 5,
    source_addr: 'MyBrand',
    dest_addr_ton: 1,
    dest_addr_npi: 1,
    destination_addr: '447700900123',
    registered_delivery: 1,
    data_coding: dataCoding,
    short_message: Buffer.from(TEXT, 'latin1'),
  };
  return {
    name: `submit_sm${dataCoding === 0 ? '' : ' binary'}`,
    ours: createPdu('submit_sm', {
      ...fields,
      tlvs: [
        { tag: TlvTag.user_message_reference, value: 4242 },
        { tag: TlvTag.source_port, value: 9200 },
      ],
    }),
    theirs: new smpp.PDU('submit_sm', { ...fields, user_message_reference: 4242, source_port: 9200 }),
  };
}

const CASES: Case[] = [
  {
    name: 'enquire_link',
    ours: createPdu('enquire_link', { sequence_number: 1 }),
    theirs: new smpp.PDU('enquire_link', { sequence_number: 1 }),
  },
  submit(0),
  submit(4),
  (() => {
    // The delivery receipt of reference §13.5.
    const fields = {
      sequence_number: 7,
      source_addr_ton: 1,
      source_addr_npi: 1,
      source_addr: '447700900123',
      dest_addr_ton: 5,
      destination_addr: 'MyBrand',
      esm_class: 0x04,
      data_coding: 0,
      short_message: Buffer.from(RECEIPT, 'latin1'),
    };
    return {
      name: 'deliver_sm receipt §13.5',
      ours: createPdu('deliver_sm', {
        ...fields,
        tlvs: [
          { tag: TlvTag.receipted_message_id, value: '1A2B3C' },
          { tag: TlvTag.message_state, value: 2 },
        ],
      }),
      theirs: new smpp.PDU('deliver_sm', { ...fields, receipted_message_id: '1A2B3C', message_state: 2 }),
    };
  })(),
];

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : Number.NaN;
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

const ROUNDS = arg('rounds', 7);
const SLICE_MS = arg('ms', 300);
const gc = (globalThis as { gc?: () => void }).gc;

let sink = 0;

/** Calls fn in batches for about `ms` milliseconds; returns calls per second. */
function opsPerSecond(fn: () => Buffer | object | false, ms: number): number {
  let calls = 0;
  const started = performance.now();
  let now = started;
  while (now - started < ms) {
    for (let i = 0; i < 500; i++) {
      const r = fn();
      if (r === false) throw new Error('decode failed');
      sink ^= Buffer.isBuffer(r) ? r.length : 1;
    }
    calls += 500;
    now = performance.now();
  }
  return (calls * 1000) / (now - started);
}

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

interface Row {
  name: string;
  octets: number;
  op: 'encode' | 'decode';
  ours: number[];
  theirs: number[];
  ratios: number[];
}

function main(): void {
  const rows: Row[] = [];
  const jobs: { row: Row; ours: () => Buffer | object | false; theirs: () => Buffer | object | false }[] = [];
  for (const c of CASES) {
    const frame = encodePdu(c.ours);
    const theirFrame = c.theirs.toBuffer();
    if (!theirFrame.equals(frame))
      throw new Error(`${c.name}: the two encoders disagree, fix the bench first`);
    const decoded = decodePdu(frame);
    if (!decoded.ok) throw decoded.error;
    for (const op of ['encode', 'decode'] as const) {
      const row: Row = { name: c.name, octets: frame.length, op, ours: [], theirs: [], ratios: [] };
      rows.push(row);
      jobs.push(
        op === 'encode'
          ? { row, ours: () => encodePdu(c.ours), theirs: () => c.theirs.toBuffer() }
          : {
              row,
              ours: () => {
                const r = decodePdu(frame);
                return r.ok ? r.pdu : false;
              },
              theirs: () => smpp.PDU.fromBuffer(frame),
            },
      );
    }
  }

  // Warm-up: let both reach their optimised code before anything counts.
  for (const job of jobs) {
    opsPerSecond(job.ours, 200);
    opsPerSecond(job.theirs, 200);
  }

  for (let round = 0; round < ROUNDS; round++) {
    for (const job of jobs) {
      gc?.();
      const ours = opsPerSecond(job.ours, SLICE_MS);
      gc?.();
      const theirs = opsPerSecond(job.theirs, SLICE_MS);
      job.row.ours.push(ours);
      job.row.theirs.push(theirs);
      job.row.ratios.push(ours / theirs);
    }
    process.stderr.write(`round ${round + 1}/${ROUNDS}\r`);
  }
  process.stderr.write('\n');

  const k = (n: number) => `${(n / 1000).toFixed(0)}k`;
  const lines = [
    `node ${process.version}, ${ROUNDS} rounds × ${SLICE_MS} ms per measurement, medians; ratio = ours / smpp per round`,
    '',
    '| PDU | octets | op | ours ops/s | smpp 0.5.1 ops/s | ratio | ≥ 5× |',
    '|---|---:|---|---:|---:|---:|:---:|',
  ];
  for (const r of rows) {
    const ratio = median(r.ratios);
    lines.push(
      `| ${r.name} | ${r.octets} | ${r.op} | ${k(median(r.ours))} | ${k(median(r.theirs))} | ${ratio.toFixed(1)}× | ${ratio >= 5 ? 'yes' : 'NO'} |`,
    );
  }
  console.log(lines.join('\n'));
  if (sink === 0.5) console.log(sink);
}

main();
