/**
 * Stores one MO deliver_sm/data_sm, in ONE transaction, before it is acknowledged:
 *
 *   fingerprint   seen within mo.dedupWindowMs → a redelivery (our deliver_sm_resp was lost): nothing
 *                 more is stored and the SMSC gets ESME_ROK again. The fingerprint is durable, so a
 *                 redelivery after our restart is recognised too.
 *   single part   stored as a message, and the InboundEventSink told, in the same transaction.
 *   part of a set stored (store.addInboundPart); when it completes the set, the message is made from
 *                 the stored parts and its parts removed, and the sink told, in the same transaction.
 *
 * If the transaction fails nothing of it remains (the fingerprint neither), the caller answers a
 * temporary error and the SMSC redelivers.
 */

import type { InboundPartRecord, NewInboundMessage, Store, StoreTx } from '../../store/store.js';
import type { MoPart } from '../mo-reassembly.js';
import type { InboundEventSink } from '../ports.js';
import { decodeBody, receivedMessage } from './received-message.js';

export type MoOutcome = 'delivered' | 'part_stored' | 'duplicate';

export interface StoreMoDeps {
  store: Store;
  events: InboundEventSink;
  dedupWindowMs: number;
  newId: () => string;
}

export interface MoArrival {
  bindId: string;
  route: string | null;
  from: string;
  to: string;
  part: MoPart;
  fingerprint: string;
}

export function storeMo(deps: StoreMoDeps, arrival: MoArrival): Promise<MoOutcome> {
  return deps.store.transaction((tx) => storeMoIn(tx, deps, arrival));
}

/**
 * storeMo's work inside a transaction the caller owns (mo-batch.ts stores the MO of one turn of the
 * event loop in one unit): if it throws, the caller must not commit what it wrote.
 */
export async function storeMoIn(
  tx: StoreTx,
  deps: Omit<StoreMoDeps, 'store'>,
  arrival: MoArrival,
): Promise<MoOutcome> {
  const { part } = arrival;
  if (!(await tx.recordInboundFingerprint(arrival.fingerprint, deps.dedupWindowMs))) return 'duplicate';
  if (part.key === undefined) {
    const metadata = part.udh
      ? { udh: part.udh.map((e) => ({ iei: e.iei, dataHex: Buffer.from(e.data).toString('hex') })) }
      : null;
    // Decoded once: its encoding is stored, its text goes to the sink.
    const decoded = decodeBody(part.payload, part.dataCoding);
    await deliver(
      tx,
      deps,
      {
        ...messageFields(deps.newId(), arrival.bindId, arrival.route, arrival.from, arrival.to),
        body: part.payload,
        dataCoding: part.dataCoding,
        encoding: decoded.encoding,
        partsCount: 1,
        metadata,
      },
      undefined,
      decoded.text,
    );
    return 'delivered';
  }
  const progress = await tx.addInboundPart({
    bindId: arrival.bindId,
    groupKey: part.key,
    index: part.seq - 1,
    total: part.total,
    payload: part.payload,
    dataCoding: part.dataCoding,
  });
  if (!progress.complete) return 'part_stored';
  await deliver(
    tx,
    deps,
    {
      ...messageFields(deps.newId(), arrival.bindId, arrival.route, arrival.from, arrival.to),
      ...joinedFields(progress.parts),
      metadata: { concat: { method: part.method, reference: part.reference, total: part.total } },
    },
    part.key,
  );
  return 'delivered';
}

function messageFields(id: string, bindId: string, route: string | null, from: string, to: string) {
  return { id, bindId, route, from, to };
}

function bodyFields(body: Uint8Array, dataCoding: number) {
  return { body, dataCoding, encoding: decodeBody(body, dataCoding).encoding };
}

/** The stored parts of a set joined in order (octets joined before decoding: a UCS-2 pair may straddle parts). */
export function joinedFields(parts: readonly InboundPartRecord[]) {
  const ordered = [...parts].sort((a, b) => a.index - b.index);
  const body = Buffer.concat(ordered.map((p) => p.payload));
  return { ...bodyFields(body, ordered[0]?.dataCoding ?? 0), partsCount: ordered.length };
}

/**
 * Stores the message (removing its set's parts) and tells the sink, inside `tx`. `text`: the body
 * already decoded (null when binary), when the caller has it.
 */
export async function deliver(
  tx: StoreTx,
  deps: Pick<StoreMoDeps, 'events'>,
  message: NewInboundMessage,
  groupKey?: string,
  text?: string | null,
): Promise<void> {
  const record = await tx.createInboundMessage(message, groupKey);
  await deps.events.onMessageReceived(tx, receivedMessage(record, text));
}
