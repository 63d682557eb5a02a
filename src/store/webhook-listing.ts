/**
 * The filter of GET /webhooks/deliveries, shared by both stores, written the way each index needs
 * it: pending and dead events through their partial index (its condition repeated word for word,
 * as SQLite needs to use it), one endpoint's events through (endpoint, id); what is left (delivered
 * events of every endpoint, most of the table) is read in id order, which is dense.
 */
import { LISTED_WEBHOOK } from './schema.js';
import type { WebhookQuery } from './store.js';

export interface WebhookListing {
  /** Conditions joined with AND (never empty). */
  where: string;
  params: unknown[];
}

/** Parameters are `?` for SQLite, `$n` for PostgreSQL. */
export function webhookListing(query: WebhookQuery, dialect: 'sqlite' | 'postgres'): WebhookListing {
  const where: string[] = [];
  const params: unknown[] = [];
  const param = (value: unknown): string => {
    params.push(value);
    return dialect === 'sqlite' ? '?' : `$${params.length}`;
  };
  // `failed`: pending events that failed at least once (waiting for a retry).
  const state = query.state === 'failed' ? 'pending' : query.state;
  const listed = state === 'pending' || state === 'dead';
  if (listed) where.push(`${LISTED_WEBHOOK} AND state = ${param(state)}`);
  else if (state !== undefined) where.push(`state = ${param(state)}`);
  if (query.endpoint !== undefined) {
    // With a state of the partial index, that index (the few pending or dead events), not all of
    // the endpoint's: SQLite, without table statistics, is told so (`+` keeps it off an index).
    const column = listed && dialect === 'sqlite' ? '+endpoint' : 'endpoint';
    where.push(`${column} = ${param(query.endpoint)}`);
  }
  if (query.state === 'failed') where.push('attempts > 0');
  return { where: where.length > 0 ? where.join(' AND ') : 'TRUE', params };
}
