/**
 * The metric names smpp-bridge exports (the contract the dashboard and the alert rules are written
 * against), and a reader of the metric names a PromQL expression uses.
 */

export type MetricType = 'gauge' | 'counter' | 'histogram';

/** The per-bind and aggregate bind metrics: served by every app with metrics on. */
export const BIND_METRICS: Readonly<Record<string, MetricType>> = {
  // per bind
  smpp_bind_up: 'gauge',
  smpp_bind_status: 'gauge',
  smpp_bind_last_rtt_seconds: 'gauge',
  smpp_reconnects_total: 'counter',
  smpp_probe_failures_total: 'counter',
  smpp_window_in_flight: 'gauge',
  // aggregates
  smpp_enquire_link_rtt_seconds: 'histogram',
  smpp_pdus_total: 'counter',
  smpp_binds: 'gauge',
  // opt-in per bind
  smpp_bind_enquire_link_rtt_seconds: 'histogram',
  smpp_bind_pdus_total: 'counter',
};

/** The message path's metrics: served when the message path runs (serve with a store). */
export const MESSAGE_METRICS: Readonly<Record<string, MetricType>> = {
  smpp_message_status_changes_total: 'counter',
  smpp_submit_latency_seconds: 'histogram',
  smpp_outbound_queued_parts: 'gauge',
  smpp_receipts_total: 'counter',
  // The message store's commits (the longest is how long it blocked the event loop).
  smpp_store_commits_total: 'counter',
  smpp_store_units_total: 'counter',
  smpp_store_busy_seconds_total: 'counter',
  smpp_store_longest_commit_seconds: 'gauge',
  // SQLite's WAL checkpoints in a child process
  smpp_store_checkpoints_total: 'counter',
  smpp_store_checkpoint_seconds_total: 'counter',
  smpp_store_checkpoint_fallbacks_total: 'counter',
  smpp_store_checkpoint_inline: 'gauge',
};

/** The webhook sender's metrics: served when the message path runs. */
export const WEBHOOK_METRICS: Readonly<Record<string, MetricType>> = {
  smpp_webhook_deliveries_total: 'counter',
  smpp_webhook_attempt_duration_seconds: 'histogram',
  smpp_webhook_outbox_pending: 'gauge',
  smpp_webhook_outbox_oldest_pending_age_seconds: 'gauge',
  smpp_webhook_endpoint_disabled: 'gauge',
};

/** The inbound handler's metrics: served when the message path runs. */
export const INBOUND_METRICS: Readonly<Record<string, MetricType>> = {
  smpp_inbound_mo_total: 'counter',
  smpp_inbound_answer_duration_seconds: 'histogram',
};

/** Every metric smpp-bridge serves, by name, with its type. */
export const METRICS: Readonly<Record<string, MetricType>> = {
  ...BIND_METRICS,
  ...MESSAGE_METRICS,
  ...WEBHOOK_METRICS,
  ...INBOUND_METRICS,
};

/** Series names the metrics above produce (a histogram's _bucket, _sum and _count). */
export const SERIES_NAMES: ReadonlySet<string> = new Set(
  Object.entries(METRICS).flatMap(([name, type]) =>
    type === 'histogram' ? [`${name}_bucket`, `${name}_sum`, `${name}_count`] : [name],
  ),
);

const KEYWORDS = new Set(['and', 'or', 'unless', 'bool', 'offset', 'inf', 'nan']);

/**
 * Metric names an expression selects. Drops string literals, label matchers, range and
 * subquery brackets, grouping clauses (`by (...)`, `on (...)`), function names and keywords.
 */
export function metricNamesOf(expr: string): string[] {
  const bare = expr
    .replace(/"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'/g, '""')
    .replace(/\{[^}]*\}/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, ' ');
  const names = new Set<string>();
  for (const m of bare.matchAll(/(?<![\w$.])([A-Za-z_:][\w:]*)(?!\w)(\s*\()?/g)) {
    const [, name, call] = m;
    if (call !== undefined || KEYWORDS.has(name!.toLowerCase())) continue;
    names.add(name!);
  }
  return [...names];
}
