/**
 * The engine against an independent SMSC: the `smpp` npm package's server (node-smpp). A submit
 * goes out with a receipt requested, its id (zero-padded, upper case) is stored canonically, and
 * the server's receipt (text form, lower case, no padding) makes the message delivered.
 */
import type { AddressInfo } from 'node:net';
import smpp from 'smpp';
import { afterEach, expect, it } from 'vitest';
import { type Harness, startHarness } from './harness.js';

const cleanup: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const fn of cleanup.splice(0).reverse()) await fn();
});

it('submits to the smpp npm server, and its receipt makes the message delivered', async () => {
  const submits: smpp.PDU[] = [];
  const sessions: smpp.Session[] = [];
  const server = smpp.createServer((session) => {
    sessions.push(session);
    session.on('error', () => {});
    session.on('pdu', (pdu) => {
      if (pdu.command === 'bind_transceiver') session.send(pdu.response({ system_id: 'NODE-SMPP' }));
      else if (pdu.command === 'enquire_link' || pdu.command === 'deliver_sm_resp') {
        if (pdu.command === 'enquire_link') session.send(pdu.response());
      } else if (pdu.command === 'unbind') {
        session.send(pdu.response());
        session.close();
      } else if (pdu.command === 'submit_sm') {
        submits.push(pdu);
        session.send(pdu.response({ message_id: '00000ABC' }));
        setTimeout(() => {
          (session.deliver_sm as (pdu: Record<string, unknown>) => void)({
            source_addr: String(pdu.destination_addr),
            destination_addr: String(pdu.source_addr),
            esm_class: 4,
            short_message:
              'id:abc sub:001 dlvrd:001 submit date:2601011200 done date:2601011201 stat:DELIVRD err:000 text:',
          });
        }, 20);
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  cleanup.push(async () => {
    for (const s of sessions) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  const h: Harness = await startHarness({
    simulator: { sim: undefined as never, host: '127.0.0.1', port, close: async () => {} },
  });
  cleanup.push(() => h.close());
  await h.send('n1');
  await h.until('n1', 'delivered');
  expect(submits).toHaveLength(1);
  expect(submits[0]!.registered_delivery).toBe(1);
  expect((await h.parts('n1'))[0]).toMatchObject({ smscMessageId: 'abc', receiptStat: 'DELIVRD' });
});
