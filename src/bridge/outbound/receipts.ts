/**
 * The ReceiptSink: a delivery receipt from any bind, matched to the part it is about.
 *
 * - The receipt's id is canonicalised with the idFormat of the route(s) the receiving bind is in
 *   (message-id.ts), the same canonical form the submit_sm_resp's id was stored in, so one index
 *   lookup finds the part whichever bind of the route sent it.
 * - Matched: the receipt is applied to the part, a `receipt` event appended and the status
 *   recomputed, in one transaction (a final status stays: the receipt is then an event only).
 * - No match yet: parked (10 minutes); the bind worker applies it when the submit_sm_resp lands.
 * - Resolves only after the store committed; rejects when it could not (the handler answers a
 *   temporary error and the SMSC redelivers).
 */
import type { ReceiptStat } from '../../protocol/receipt.js';
import { DEFAULT_PARKED_RECEIPT_TTL_MS } from '../../store/store.js';
import { canonicalMessageId, type IdFormat } from '../message-id.js';
import { receiptStat } from '../message-status.js';
import type { InboundReceipt, ReceiptSink } from '../ports.js';
import type { RouteTable } from '../routing.js';
import type { StatusRecorder } from './status.js';

export interface ReceiptObserver {
  matched(n: number): void;
  orphaned(n: number): void;
}

export class ReceiptCorrelator implements ReceiptSink {
  /** The id formats of the routes each bind is in (most binds: one). */
  private readonly formats = new Map<string, IdFormat[]>();

  constructor(
    private readonly recorder: StatusRecorder,
    routes: RouteTable,
    private readonly observer: ReceiptObserver = { matched: () => {}, orphaned: () => {} },
    private readonly parkTtlMs: number = DEFAULT_PARKED_RECEIPT_TTL_MS,
  ) {
    for (const route of routes.routes) {
      for (const bindId of route.binds) {
        const list = this.formats.get(bindId) ?? [];
        if (!list.includes(route.idFormat)) list.push(route.idFormat);
        this.formats.set(bindId, list);
      }
    }
  }

  /** The canonical ids to try for a receipt that came on `bindId`. */
  candidateIds(bindId: string, id: string): string[] {
    const formats = this.formats.get(bindId) ?? ['string'];
    const ids: string[] = [];
    for (const format of formats) {
      const canonical = canonicalMessageId(id, 'receipt', format);
      if (!ids.includes(canonical)) ids.push(canonical);
    }
    return ids;
  }

  async onReceipt(inbound: InboundReceipt): Promise<void> {
    const { receipt, bindId } = inbound;
    const stat: ReceiptStat = receiptStat(receipt);
    const ids = this.candidateIds(bindId, receipt.id);
    const err = receipt.err ?? null;
    const doneAt = receipt.doneDate ? receipt.doneDate.getTime() : null;
    const matched = await this.recorder.transaction(async (tx, recompute) => {
      for (const smscMessageId of ids) {
        const part = await tx.recordReceipt({ smscMessageId, bindId, stat, err, doneAt });
        if (part === undefined) continue;
        await recompute(part.messageId, {
          part,
          event: {
            type: 'receipt',
            data: { part: part.index, bindId, stat, err, doneAt, final: receipt.final },
          },
        });
        return true;
      }
      await tx.parkReceipt({ smscMessageId: ids[0]!, bindId, stat, err, doneAt }, this.parkTtlMs);
      return false;
    });
    if (matched) this.observer.matched(1);
    else this.observer.orphaned(1);
  }
}
