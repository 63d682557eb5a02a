/**
 * How the messages of one accepting transaction reach the outbound engine. A message that a bind can
 * send at once (OutboundPort.reserveSend: bound, room in its window and rate, nothing of its route
 * queued) is stored with its parts already `sending` on that bind and written the moment the
 * transaction commits: no queue, no claim, no mark. Every other message is stored queued, and the
 * engine is told after the commit (notifyQueued).
 *
 * A reservation is taken inside the transaction, when its unit runs (not while it waits for its
 * turn), and given back when the transaction fails, when the unit runs again (PostgreSQL re-runs a
 * unit after a deadlock), or when the fence no longer held and the parts were queued instead.
 */
import type { MessagePath, SendReservation } from '../bridge/ports.js';
import type { MessageRecord, PartRecord, StoreTx } from '../store/store.js';
import type { Intake } from './message-intake.js';

/**
 * Runs one accepting transaction: `fn` stores its messages through `dispatch.create`. Once it
 * committed, the reserved messages are written and the engine told of the queued ones; when it
 * failed, the reservations go back. `onNotifyError` hears a failed notify (the next poll finds the
 * message: it is stored).
 */
export async function acceptMessages<T>(
  path: MessagePath,
  fn: (tx: StoreTx, dispatch: MessageDispatch) => Promise<T>,
  onNotifyError: (error: unknown, route: string) => void,
): Promise<T> {
  const dispatch = new MessageDispatch(path);
  let value: T;
  try {
    value = await path.store.transaction(async (tx) => {
      dispatch.begin();
      return fn(tx, dispatch);
    });
  } catch (error) {
    dispatch.failed();
    throw error;
  }
  dispatch.committed(onNotifyError);
  return value;
}

interface Reserved {
  reservation: SendReservation;
  message: MessageRecord;
  parts: readonly PartRecord[];
}

export class MessageDispatch {
  private reserved: Reserved[] = [];
  /** Route → parts queued there by this transaction. */
  private queuedRoutes = new Map<string, number>();

  constructor(private readonly path: MessagePath) {}

  /** Call first in the transaction's function: forgets (and gives back) what an earlier run took. */
  begin(): void {
    this.releaseAll();
    this.queuedRoutes = new Map();
  }

  /** Stores the message and its parts inside `tx`: sending on a reserved bind, or queued. */
  async create(tx: StoreTx, intake: Intake): Promise<MessageRecord> {
    const reservation =
      intake.message.sendAt == null
        ? this.path.outbound.reserveSend?.(intake.route, intake.parts.length)
        : undefined;
    if (reservation === undefined) {
      this.queue(intake);
      return tx.createMessage(intake.message, intake.parts);
    }
    let created: Awaited<ReturnType<StoreTx['createMessageSending']>>;
    try {
      created = await tx.createMessageSending(intake.message, intake.parts, reservation.fence);
    } catch (error) {
      reservation.release();
      throw error;
    }
    if (created.parts === undefined) {
      // The bind changed hands meanwhile: the parts were queued.
      reservation.release();
      this.queue(intake);
    } else {
      this.reserved.push({ reservation, message: created.message, parts: created.parts });
    }
    return created.message;
  }

  /**
   * The transaction committed: the reserved messages are written to their binds, the engine is
   * told of the queued ones. `onNotifyError` hears a failed notify (the next poll finds the message).
   */
  committed(onNotifyError: (error: unknown, route: string) => void): void {
    const reserved = this.reserved;
    this.reserved = [];
    for (const { reservation, message, parts } of reserved) reservation.send(message, parts);
    for (const [route, parts] of this.queuedRoutes) {
      try {
        this.path.outbound.notifyQueued(route, parts);
      } catch (error) {
        onNotifyError(error, route);
      }
    }
    this.queuedRoutes = new Map();
  }

  /** The transaction failed: every reservation goes back. */
  failed(): void {
    this.releaseAll();
    this.queuedRoutes = new Map();
  }

  private queue(intake: Intake): void {
    this.queuedRoutes.set(intake.route, (this.queuedRoutes.get(intake.route) ?? 0) + intake.parts.length);
  }

  private releaseAll(): void {
    const reserved = this.reserved;
    this.reserved = [];
    for (const { reservation } of reserved) reservation.release();
  }
}
