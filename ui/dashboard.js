/**
 * The dashboard's model, without the DOM: every bind as one record, kept in id order, the status
 * counts, and the filtered view (status filter + search) that the virtual list draws from.
 */

export const STATUSES = ['healthy', 'degraded', 'unhealthy', 'standby', 'stopped'];
/** RTT samples kept per bind for its sparkline. */
export const RTT_HISTORY = 40;

/**
 * The replica that runs a standby bind: the summary's `owner` (bind ownership by leases), else
 * from its reason (`run by <owner>`, older services); '' when not known or not on standby.
 */
export function ownerOf(record) {
  if (record.status !== 'standby') return '';
  if (typeof record.owner === 'string' && record.owner !== '') return record.owner;
  const match = /^run by (.+)$/.exec(record.reason ?? '');
  return match ? match[1] : '';
}

export function formatMs(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  if (ms < 10) return `${ms.toFixed(2)} ms`;
  if (ms < 1000) return `${ms.toFixed(1)} ms`;
  return `${(ms / 1000).toFixed(2)} s`;
}

export class BindTable {
  constructor() {
    /** @type {Map<string, object>} */
    this.byId = new Map();
    /** Records in id order (UTF-16 order, as GET /binds pages them). */
    this.sorted = [];
    this.counts = Object.fromEntries(STATUSES.map((s) => [s, 0]));
    this.filter = 'all';
    this.search = '';
    this.view = [];
    this.viewDirty = true;
    this.orderDirty = false;
  }

  get size() {
    return this.sorted.length;
  }

  /** Adds or updates a bind from a summary, a snapshot entry or a bind event; returns the record. */
  upsert(fields) {
    let record = this.byId.get(fields.id);
    if (record === undefined) {
      record = {
        id: fields.id,
        status: 'stopped',
        code: '',
        reason: '',
        state: null,
        lastRttMs: null,
        since: null,
        probesSent: null,
        probesFailed: null,
        reconnects: null,
        rtts: [],
        /** Bumped with every RTT sample: the sparkline redraws when it changed. */
        rttVersion: 0,
        flash: null,
        text: '',
      };
      this.byId.set(record.id, record);
      this.sorted.push(record);
      this.counts[record.status]++;
      this.orderDirty = true;
      this.viewDirty = true;
    }
    const before = record.status;
    for (const key of [
      'status',
      'code',
      'reason',
      'state',
      'lastRttMs',
      'since',
      'probesSent',
      'probesFailed',
      'reconnects',
    ]) {
      if (fields[key] !== undefined) record[key] = fields[key];
    }
    if (record.status !== before) {
      this.counts[before]--;
      this.counts[record.status] = (this.counts[record.status] ?? 0) + 1;
      if (this.filter !== 'all') this.viewDirty = true;
    }
    if (fields.lastRttMs !== undefined && fields.lastRttMs !== null && record.rtts.length === 0) {
      record.rtts.push(fields.lastRttMs);
      record.rttVersion++;
    }
    record.text = `${record.id}\n${record.code}\n${record.reason}\n${record.state ?? ''}`.toLowerCase();
    if (this.search !== '') this.viewDirty = true;
    return record;
  }

  /** Records a probe's round trip for the sparkline. */
  addRtt(id, rttMs) {
    const record = this.byId.get(id);
    if (record === undefined || rttMs === null || rttMs === undefined) return;
    record.rtts.push(rttMs);
    record.rttVersion++;
    if (record.rtts.length > RTT_HISTORY) record.rtts.splice(0, record.rtts.length - RTT_HISTORY);
  }

  /** Keeps only the binds whose ids are in `ids` (after a snapshot). */
  retain(ids) {
    if (ids.size === this.sorted.length) return;
    const kept = [];
    for (const record of this.sorted) {
      if (ids.has(record.id)) kept.push(record);
      else {
        this.byId.delete(record.id);
        this.counts[record.status]--;
      }
    }
    this.sorted = kept;
    this.viewDirty = true;
  }

  setFilter(filter) {
    if (filter === this.filter) return;
    this.filter = filter;
    this.viewDirty = true;
  }

  setSearch(text) {
    const search = text.trim().toLowerCase();
    if (search === this.search) return;
    this.search = search;
    this.viewDirty = true;
  }

  /** The records to list, in id order, after the filter and the search. */
  visible() {
    if (this.orderDirty) {
      this.sorted.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
      this.orderDirty = false;
      this.viewDirty = true;
    }
    if (!this.viewDirty) return this.view;
    const words = this.search === '' ? [] : this.search.split(/\s+/);
    this.view =
      this.filter === 'all' && words.length === 0
        ? this.sorted
        : this.sorted.filter(
            (r) =>
              (this.filter === 'all' || r.status === this.filter) && words.every((w) => r.text.includes(w)),
          );
    this.viewDirty = false;
    return this.view;
  }
}

/** Which rows of a list of `total` rows of `rowHeight` px a viewport shows, with `overscan` rows either side. */
export function windowRows(scrollTop, viewportHeight, rowHeight, total, overscan = 6) {
  const first = Math.max(0, Math.floor(scrollTop / rowHeight) - overscan);
  const last = Math.min(total, Math.ceil((scrollTop + viewportHeight) / rowHeight) + overscan);
  return { first, last: Math.max(first, last) };
}

/** Message statuses in the order the messages region shows them (the API's MessageStatus). */
export const MESSAGE_STATUSES = [
  'queued',
  'scheduled',
  'submitted',
  'delivery_pending',
  'delivered',
  'partially_delivered',
  'undelivered',
  'expired',
  'rejected',
  'failed',
  'unknown',
  'canceled',
];

/**
 * Status changes per status over a sliding window (default the last minute), from the `message`
 * events: one bucket per second, so memory stays bounded whatever the rate.
 */
export class MessageRates {
  constructor(windowMs = 60_000) {
    this.windowS = Math.max(1, Math.round(windowMs / 1000));
    /** @type {{ second: number, counts: Record<string, number> }[]} oldest first */
    this.buckets = [];
  }

  add(status, atMs) {
    const second = Math.floor(atMs / 1000);
    let last = this.buckets[this.buckets.length - 1];
    if (last === undefined || last.second !== second) {
      last = { second, counts: {} };
      this.buckets.push(last);
    }
    last.counts[status] = (last.counts[status] ?? 0) + 1;
    this.prune(atMs);
  }

  prune(nowMs) {
    const oldest = Math.floor(nowMs / 1000) - this.windowS + 1;
    while (this.buckets.length > 0 && this.buckets[0].second < oldest) this.buckets.shift();
  }

  /** Changes into each status within the window ending at nowMs. */
  counts(nowMs) {
    this.prune(nowMs);
    const out = Object.fromEntries(MESSAGE_STATUSES.map((s) => [s, 0]));
    for (const { counts } of this.buckets)
      for (const [s, n] of Object.entries(counts)) out[s] = (out[s] ?? 0) + n;
    return out;
  }
}
