// npm run bench -- text: GSM 7-bit / UCS-2 encode and decode, encoding choice, splitting and reassembly.
import { performance } from 'node:perf_hooks';
import { decodeGsm7, encodeGsm7, packSeptets } from '../../src/protocol/gsm7.js';
import { Reassembler, splitText } from '../../src/protocol/segments.js';
import { chooseEncoding } from '../../src/protocol/text.js';
import { decodeUcs2, encodeUcs2 } from '../../src/protocol/ucs2.js';

const shortGsm = 'Your code is 482913. It expires in 10 minutes. {ref: A-77} €0.00';
const longGsm = 'Dear customer, your parcel is on its way [tracking: 1Z999]. '.repeat(20);
const longUnicode = 'Привет! Ваш заказ отправлен 📦 '.repeat(20);
const gsmOctets = encodeGsm7(longGsm);
const ucs2Octets = encodeUcs2(longUnicode);
const parts = splitText(longGsm, { method: 'udh8', reference: 42 });

// No benchmark dependency: each case runs for about TIME_MS after a warm-up; ops/s and mean ns per op.
const TIME_MS = 500;
const rows: { case: string; 'ops/s': number; 'ns/op': number }[] = [];
const bench = {
  add(name: string, fn: () => unknown) {
    for (let i = 0; i < 1_000; i++) fn();
    let ops = 0;
    const start = performance.now();
    let elapsed = 0;
    while (elapsed < TIME_MS) {
      for (let i = 0; i < 100; i++) fn();
      ops += 100;
      elapsed = performance.now() - start;
    }
    rows.push({
      case: name,
      'ops/s': Math.round((ops / elapsed) * 1000),
      'ns/op': Math.round((elapsed * 1e6) / ops),
    });
    return bench;
  },
};

bench
  .add('chooseEncoding short GSM', () => chooseEncoding(shortGsm))
  .add('chooseEncoding long Unicode', () => chooseEncoding(longUnicode))
  .add(`encodeGsm7 ${longGsm.length} chars`, () => encodeGsm7(longGsm))
  .add(`decodeGsm7 ${gsmOctets.length} octets`, () => decodeGsm7(gsmOctets))
  .add(`packSeptets ${gsmOctets.length} septets`, () => packSeptets(gsmOctets))
  .add(`encodeUcs2 ${longUnicode.length} units`, () => encodeUcs2(longUnicode))
  .add(`decodeUcs2 ${ucs2Octets.length} octets`, () => decodeUcs2(ucs2Octets))
  .add(`splitText GSM into ${parts.length} udh8 parts`, () =>
    splitText(longGsm, { method: 'udh8', reference: 1 }),
  )
  .add('splitText Unicode udh8', () => splitText(longUnicode, { method: 'udh8', reference: 1 }))
  .add(`reassemble ${parts.length} parts`, () => {
    const reassembler = new Reassembler({ timeoutMs: 60_000, now: () => 0 });
    for (const part of parts) {
      reassembler.accept({
        source: '447700900123',
        destination: '88000',
        esm_class: part.esm_class_flags,
        data_coding: part.data_coding,
        short_message: part.short_message,
      });
    }
  });

console.table(rows);
