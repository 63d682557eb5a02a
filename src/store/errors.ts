/** The store's errors: each one an SmppError with a code from the one registry (src/errors.ts). */
import { ErrorCode, SmppError } from '../errors.js';
import type { Fence } from './store.js';

export function storeClosedError(): SmppError {
  return new SmppError(ErrorCode.StoreClosed, 'the store is closed');
}

/** The commit of a group failed: none of its work was written; trying again may work. */
export function commitError(cause: unknown): SmppError {
  return new SmppError(ErrorCode.StoreCommit, `the store could not commit: ${describe(cause)}`, {
    retriable: true,
    cause,
  });
}

export function fencedError(fence: Fence, currentEpoch: number | undefined): SmppError {
  const now = currentEpoch === undefined ? 'nobody holds it' : `it is at epoch ${currentEpoch}`;
  return new SmppError(
    ErrorCode.StoreFenced,
    `write for bind ${fence.bindId} refused: epoch ${fence.epoch} is stale (${now})`,
  );
}

export function notFoundError(what: string, id: string | number): SmppError {
  return new SmppError(ErrorCode.StoreNotFound, `${what} ${id} not found`);
}

export function conflictError(message: string, cause?: unknown): SmppError {
  return new SmppError(ErrorCode.StoreConflict, message, { cause });
}

export function migrationError(message: string, cause?: unknown): SmppError {
  return new SmppError(ErrorCode.StoreMigration, message, { cause });
}

/** A statement failed on the database's side (PostgreSQL: connection, server, resources). */
export function unavailableError(cause: unknown): SmppError {
  return new SmppError(ErrorCode.StoreUnavailable, `the store's database failed: ${describe(cause)}`, {
    retriable: true,
    cause,
  });
}

export function openError(path: string, cause: unknown): SmppError {
  return new SmppError(ErrorCode.StoreOpen, `cannot open the store at ${path}: ${describe(cause)}`, {
    cause,
  });
}

function describe(cause: unknown): string {
  return cause instanceof Error ? cause.message : String(cause);
}
