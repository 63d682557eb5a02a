/**
 * The dashboard page: loads every bind with GET /binds (paged), follows GET /events?binds=true,
 * draws the binds in a virtual list (only the rows in view exist in the DOM, so 10,000 binds
 * scroll like 10), and opens a detail panel per bind. The messages region polls GET /messages/stats
 * (queue depth, totals) and counts the stream's `message` events (the last minute's changes). API calls carry the bearer token kept in
 * sessionStorage; a 401 asks for it.
 */
import { BindTable, formatMs, MESSAGE_STATUSES, MessageRates, ownerOf, windowRows } from './dashboard.js';
import { followEvents } from './sse.js';
import uPlot from './vendor/uPlot.esm.js';

const ROW_HEIGHT = 34;
const PAGE_LIMIT = 1000;
const TOKEN_KEY = 'smpp-bridge.token';
const $ = (id) => document.getElementById(id);

const table = new BindTable();
const rows = []; // the pooled row elements
let openId = null;

// ---- token and API -------------------------------------------------------------------------

let tokenPrompt = null;

function authHeaders() {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** Shows the token dialog; resolves true when a token was entered, false on cancel. Shared by concurrent callers. */
function askToken(why) {
  if (tokenPrompt !== null) return tokenPrompt;
  const dialog = $('token-dialog');
  $('token-why').textContent = why;
  $('token-input').value = '';
  tokenPrompt = new Promise((resolve) => {
    const done = (ok) => {
      $('token-form').removeEventListener('submit', onSubmit);
      $('token-cancel').removeEventListener('click', onCancel);
      dialog.removeEventListener('cancel', onCancel);
      dialog.close();
      tokenPrompt = null;
      resolve(ok);
    };
    const onSubmit = (event) => {
      event.preventDefault();
      const token = $('token-input').value.trim();
      if (token === '') return;
      sessionStorage.setItem(TOKEN_KEY, token);
      done(true);
    };
    const onCancel = (event) => {
      event?.preventDefault();
      done(false);
    };
    $('token-form').addEventListener('submit', onSubmit);
    $('token-cancel').addEventListener('click', onCancel);
    dialog.addEventListener('cancel', onCancel);
    dialog.showModal();
    $('token-input').focus();
  });
  return tokenPrompt;
}

class ApiError extends Error {
  constructor(status, body) {
    super(body?.message ?? `HTTP ${status}`);
    this.status = status;
    this.code = body?.code ?? null;
  }
}

/** One API call; on 401 asks for a token and tries again (until the dialog is cancelled). */
async function api(method, path) {
  for (;;) {
    const response = await fetch(path, { method, headers: { accept: 'application/json', ...authHeaders() } });
    if (response.status === 401) {
      const why = sessionStorage.getItem(TOKEN_KEY)
        ? 'The token was not accepted: enter another.'
        : `${method} ${path.split('?')[0]} needs a bearer token (auth.tokens).`;
      if (await askToken(why)) continue;
    }
    const body = await response.json().catch(() => null);
    if (!response.ok) throw new ApiError(response.status, body);
    return body;
  }
}

// ---- toast -----------------------------------------------------------------------------------

let toastTimer = null;
function toast(text, isError = false) {
  const el = $('toast');
  el.textContent = text;
  el.classList.toggle('error', isError);
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => {
    el.hidden = true;
  }, 5000);
}

// ---- the virtual list ------------------------------------------------------------------------

function sparkOptions() {
  return {
    width: 120,
    height: 24,
    pxAlign: false,
    cursor: { show: false },
    select: { show: false },
    legend: { show: false },
    scales: { x: { time: false } },
    axes: [{ show: false }, { show: false }],
    series: [{}, { stroke: '#2563eb', width: 1.5, points: { show: false } }],
  };
}

function span(className) {
  const el = document.createElement('span');
  el.className = className;
  return el;
}

function makeRow() {
  const el = document.createElement('div');
  el.className = 'row bind';
  const parts = {
    status: span('status'),
    id: span('id'),
    reason: span('reason'),
    state: span('state'),
    rtt: span('num rtt'),
    spark: span('spark'),
    probes: span('num probes'),
    reconnects: span('num reconnects'),
    actions: span('actions'),
  };
  const probe = document.createElement('button');
  probe.type = 'button';
  probe.className = 'probe';
  probe.textContent = 'Probe';
  const rebind = document.createElement('button');
  rebind.type = 'button';
  rebind.className = 'rebind quiet';
  rebind.textContent = 'Rebind';
  const result = span('result');
  parts.actions.append(probe, rebind, result);
  el.append(...Object.values(parts));
  const chart = new uPlot(sparkOptions(), [[], []], parts.spark);
  const row = { el, parts, result, chart, id: null, drawn: null };
  probe.addEventListener('click', (event) => {
    event.stopPropagation();
    if (row.id !== null) probeBind(row.id);
  });
  rebind.addEventListener('click', (event) => {
    event.stopPropagation();
    if (row.id !== null) rebindBind(row.id);
  });
  el.addEventListener('click', () => {
    if (row.id !== null) openDetail(row.id);
  });
  return row;
}

function drawRow(row, record, index) {
  row.el.style.transform = `translateY(${index * ROW_HEIGHT}px)`;
  row.id = record.id;
  row.el.dataset.id = record.id;
  row.el.dataset.status = record.status;
  row.el.classList.toggle('open', record.id === openId);
  const p = row.parts;
  p.status.textContent = record.status;
  p.id.textContent = record.id;
  p.id.title = record.id;
  p.reason.textContent = record.code ? `${record.code} · ${record.reason}` : record.reason;
  p.reason.title = p.reason.textContent;
  const owner = ownerOf(record);
  p.state.textContent = owner ? `${record.state ?? 'standby'} · ${owner}` : (record.state ?? '');
  p.rtt.textContent = formatMs(record.lastRttMs);
  p.probes.textContent = record.probesSent === null ? '—' : String(record.probesSent);
  p.probes.title = record.probesFailed ? `${record.probesFailed} failed` : '';
  p.reconnects.textContent = record.reconnects === null ? '—' : String(record.reconnects);
  const flash = record.flash !== null && record.flash.until > Date.now() ? record.flash : null;
  row.result.textContent = flash ? flash.text : '';
  row.result.classList.toggle('error', flash?.error === true);
  // Redraw the sparkline only when its samples changed (rows of binds without samples share one key).
  const key = record.rtts.length === 0 ? 'empty' : `${record.id}\n${record.rttVersion}`;
  if (row.drawn !== key) {
    row.drawn = key;
    row.chart.setData([record.rtts.map((_, i) => i), record.rtts.slice()]);
  }
}

let frameRequested = false;
function render() {
  if (frameRequested) return;
  frameRequested = true;
  requestAnimationFrame(paint);
}

function paint() {
  frameRequested = false;
  const view = table.visible();
  const viewport = $('viewport');
  $('spacer').style.height = `${view.length * ROW_HEIGHT}px`;
  const { first, last } = windowRows(viewport.scrollTop, viewport.clientHeight, ROW_HEIGHT, view.length);
  while (rows.length < last - first) {
    const row = makeRow();
    rows.push(row);
    viewport.append(row.el);
  }
  for (let i = 0; i < rows.length; i++) {
    const row = rows[i];
    const index = first + i;
    if (index < last) {
      row.el.hidden = false;
      drawRow(row, view[index], index);
    } else if (!row.el.hidden) {
      row.el.hidden = true;
      row.id = null;
      delete row.el.dataset.id;
    }
  }
  $('empty').hidden = view.length > 0 || table.size === 0;
  $('shown').textContent = `${view.length.toLocaleString('en')} of ${table.size.toLocaleString('en')} binds`;
  $('total').textContent = `${table.size.toLocaleString('en')} binds`;
  for (const el of document.querySelectorAll('[data-count]')) {
    const status = el.dataset.count;
    el.textContent = String(status === 'all' ? table.size : table.counts[status]);
  }
}

// ---- actions -------------------------------------------------------------------------------

function flash(id, text, error = false) {
  const record = table.byId.get(id);
  if (record === undefined) return;
  record.flash = { text, error, until: Date.now() + 10_000 };
  render();
  setTimeout(render, 10_050);
}

async function probeBind(id) {
  flash(id, 'probing…');
  try {
    const result = await api('POST', `/binds/${encodeURIComponent(id)}/enquire`);
    table.upsert({ id, lastRttMs: result.rttMs });
    flash(id, `RTT ${formatMs(result.rttMs)}`);
    toast(`${id}: enquire_link answered in ${formatMs(result.rttMs)}`);
  } catch (error) {
    flash(id, error.code ?? 'failed', true);
    toast(`${id}: probe failed: ${error.message}`, true);
  }
}

async function rebindBind(id) {
  try {
    await api('POST', `/binds/${encodeURIComponent(id)}/rebind`);
    flash(id, 'rebinding…');
    toast(`${id}: rebind started`);
  } catch (error) {
    flash(id, error.code ?? 'failed', true);
    toast(`${id}: rebind refused: ${error.message}`, true);
  }
}

// ---- the detail panel ----------------------------------------------------------------------

let detailChart = null;
let detailTimer = null;
let detailLoading = false;

function kv(dl, entries) {
  dl.replaceChildren();
  for (const [key, value] of entries) {
    const dt = document.createElement('dt');
    dt.textContent = key;
    const dd = document.createElement('dd');
    dd.textContent = value === null || value === undefined || value === '' ? '—' : String(value);
    dl.append(dt, dd);
  }
}

function counts(record) {
  const entries = Object.entries(record ?? {}).filter(([, n]) => n > 0);
  return entries.length === 0 ? '—' : entries.map(([name, n]) => `${name} ${n}`).join(', ');
}

function flatten(object, prefix = '') {
  const out = [];
  for (const [key, value] of Object.entries(object ?? {})) {
    if (value !== null && typeof value === 'object') out.push(...flatten(value, `${prefix}${key}.`));
    else out.push([`${prefix}${key}`, value]);
  }
  return out;
}

function drawDetailChart(record) {
  const host = $('detail-chart');
  const width = Math.max(240, host.clientWidth || 320);
  const data = [record.rtts.map((_, i) => i), record.rtts.slice()];
  if (detailChart === null || detailChart.width !== width) {
    detailChart?.destroy();
    detailChart = new uPlot(
      {
        width,
        height: 120,
        cursor: { show: false },
        select: { show: false },
        legend: { show: false },
        scales: { x: { time: false } },
        axes: [
          { show: false },
          { size: 72, values: (_u, ticks) => ticks.map((t) => `${Math.round(t * 10) / 10} ms`) },
        ],
        series: [{}, { label: 'RTT', stroke: '#2563eb', width: 1.5, fill: 'rgba(37,99,235,0.08)' }],
      },
      data,
      host,
    );
  } else detailChart.setData(data);
}

function traceTable(body) {
  const list = Array.isArray(body)
    ? body
    : (['pdus', 'entries', 'items', 'records', 'trace'].map((k) => body?.[k]).find(Array.isArray) ?? null);
  if (list === null) {
    const pre = document.createElement('pre');
    pre.textContent = JSON.stringify(body, null, 2);
    return pre;
  }
  if (list.length === 0) {
    const p = document.createElement('p');
    p.className = 'muted';
    p.textContent = 'The trace is empty.';
    return p;
  }
  const columns = [
    'time',
    'at',
    'direction',
    'command',
    'status',
    'commandStatus',
    'sequence',
    'sequenceNumber',
    'length',
  ].filter((c) => list.some((e) => e?.[c] !== undefined));
  const tableEl = document.createElement('table');
  const head = tableEl.createTHead().insertRow();
  for (const c of [...columns, 'fields']) {
    const th = document.createElement('th');
    th.textContent = c;
    head.append(th);
  }
  const tbody = tableEl.createTBody();
  for (const entry of list) {
    const tr = tbody.insertRow();
    for (const c of columns) tr.insertCell().textContent = entry?.[c] === undefined ? '' : String(entry[c]);
    const rest = Object.fromEntries(Object.entries(entry ?? {}).filter(([k]) => !columns.includes(k)));
    const cell = tr.insertCell();
    cell.className = 'fields';
    cell.textContent = Object.keys(rest).length === 0 ? '' : JSON.stringify(rest.fields ?? rest);
  }
  return tableEl;
}

async function loadDetail() {
  const id = openId;
  if (id === null || detailLoading) return;
  detailLoading = true;
  try {
    const path = `/binds/${encodeURIComponent(id)}`;
    const [detail, check, trace] = await Promise.allSettled([
      api('GET', path),
      fetch(`${path}/health`, { headers: authHeaders() }).then((r) => r.json()),
      fetch(`${path}/trace?limit=50`, { headers: authHeaders() }).then(async (r) => ({
        status: r.status,
        body: await r.json().catch(() => null),
      })),
    ]);
    if (openId !== id) return;
    const record = table.byId.get(id);
    if (detail.status === 'fulfilled') {
      const h = detail.value.health;
      $('detail-reason').textContent = `${h.status} · ${h.code} · ${h.reason}`;
      $('detail').dataset.status = h.status;
      const passing = check.status === 'fulfilled' ? check.value.passing : null;
      kv($('detail-health'), [
        ['status since', h.since],
        [
          'health check',
          passing === null
            ? null
            : passing
              ? 'passing'
              : `failing (${check.value.failedCheck}: ${check.value.failedReason})`,
        ],
        ['state', h.state],
        ['session state', h.sessionState],
        ['bind type', h.bindType],
        ['remote', h.remoteAddress],
        ['bound at', h.boundAt],
        ['uptime', h.uptimeMs === null ? null : formatMs(h.uptimeMs)],
        [
          'last probe',
          h.lastProbe
            ? `${h.lastProbe.ok ? 'ok' : 'failed'} ${formatMs(h.lastProbe.rttMs)} (${h.lastProbe.trigger}) at ${h.lastProbe.at}${h.lastProbe.error ? ` · ${h.lastProbe.error}` : ''}`
            : null,
        ],
        [
          'RTT (recent)',
          h.rtt.count === 0
            ? null
            : `n=${h.rtt.count} min ${formatMs(h.rtt.min)} · p50 ${formatMs(h.rtt.p50)} · p90 ${formatMs(h.rtt.p90)} · p99 ${formatMs(h.rtt.p99)} · max ${formatMs(h.rtt.max)}`,
        ],
        ['consecutive failures', h.consecutiveFailures],
        ['probes', `${h.counters.probesSent} sent, ${h.counters.probesFailed} failed`],
        [
          'binds',
          `${h.counters.binds} ok, ${h.counters.bindFailures} failed; ${h.counters.reconnects} reconnects`,
        ],
        [
          'reconnect',
          h.reconnect.nextAttemptAt
            ? `attempt ${h.reconnect.attempt}, next at ${h.reconnect.nextAttemptAt}`
            : null,
        ],
        [
          'window',
          `${h.window.used}/${h.window.capacity} in flight, ${h.window.waiting} waiting${h.throttled ? ', throttled' : ''}`,
        ],
        [
          'last error',
          h.lastError
            ? `${h.lastError.code}${h.lastError.statusName ? ` (${h.lastError.statusName})` : ''}: ${h.lastError.message} at ${h.lastError.at}`
            : null,
        ],
        ['PDUs in', counts(h.counters.pdusIn)],
        ['PDUs out', counts(h.counters.pdusOut)],
      ]);
      kv($('detail-config'), flatten(detail.value.config));
    } else {
      $('detail-reason').textContent = detail.reason.message;
    }
    if (record) drawDetailChart(record);
    const traceEl = $('detail-trace');
    if (trace.status === 'fulfilled' && trace.value.status === 200)
      traceEl.replaceChildren(traceTable(trace.value.body));
    else {
      const p = document.createElement('p');
      p.className = 'muted';
      p.textContent =
        trace.status === 'fulfilled' && trace.value.status !== 404
          ? `trace unavailable (HTTP ${trace.value.status})`
          : 'no trace';
      traceEl.replaceChildren(p);
    }
  } finally {
    detailLoading = false;
  }
}

function openDetail(id) {
  openId = id;
  $('detail').hidden = false;
  $('detail-title').textContent = id;
  $('detail-trace').replaceChildren();
  loadDetail();
  render();
}

/** Reloads the open panel after its bind changed, at most once a second. */
function detailChanged(id) {
  if (id !== openId || detailTimer !== null) return;
  detailTimer = setTimeout(() => {
    detailTimer = null;
    loadDetail();
  }, 1000);
}

// ---- the messages region -------------------------------------------------------------------

const STATS_POLL_MS = 2_000;
const GOOD = new Set(['submitted', 'delivered']);
const BAD = new Set(['rejected', 'failed', 'undelivered', 'expired']);
const rates = new MessageRates();
/** Totals since start: the last GET /messages/stats, plus the events seen since. */
let totals = null;
let statsTimer = null;
let statsSoon = null;
/** Whether the message path runs, from the stream's snapshot; null until it came. */
let messagesRun = null;

function buildMessageCells() {
  const box = $('msg-statuses');
  for (const status of MESSAGE_STATUSES) {
    const cell = document.createElement('div');
    cell.className = 'msg-status';
    cell.dataset.status = status;
    if (GOOD.has(status)) cell.dataset.kind = 'good';
    if (BAD.has(status)) cell.dataset.kind = 'bad';
    cell.innerHTML =
      '<span class="name"></span><b data-rate>0</b> /min<span class="total" data-total>0</span>';
    cell.querySelector('.name').textContent = status.replace('_', ' ');
    box.append(cell);
  }
}

function renderMessages() {
  if (totals === null) return;
  const recent = rates.counts(Date.now());
  for (const cell of $('msg-statuses').children) {
    const status = cell.dataset.status;
    cell.querySelector('[data-rate]').textContent = String(recent[status] ?? 0);
    cell.querySelector('[data-total]').textContent = `${totals[status] ?? 0} total`;
  }
}

function messageNote(text) {
  $('msg-note').textContent = text;
  $('msg-note').hidden = text === '';
}

async function pollStats() {
  clearTimeout(statsTimer);
  const next = STATS_POLL_MS;
  try {
    const response = await fetch('/messages/stats', {
      headers: { accept: 'application/json', ...authHeaders() },
      cache: 'no-store',
    });
    const body = await response.json().catch(() => null);
    if (response.ok && body !== null) {
      totals = { ...body.statusChanges };
      const queued = $('msg-queued');
      queued.textContent = String(body.queuedParts);
      queued.dataset.value = String(body.queuedParts);
      $('msg-max').textContent = body.maxQueuedParts === null ? '' : `of ${body.maxQueuedParts}`;
      $('msg-statuses').hidden = false;
      messageNote('');
      renderMessages();
    } else if (response.status === 401) {
      messageNote('Reading the message counts needs a bearer token (Token…).');
    } else {
      messageNote(`GET /messages/stats failed: ${body?.message ?? `HTTP ${response.status}`}`);
    }
  } catch (error) {
    messageNote(`GET /messages/stats failed: ${error.message}`);
  }
  statsTimer = setTimeout(pollStats, next);
}

/** The snapshot says whether the message path runs: poll GET /messages/stats only when it does. */
function onMessagesRun(run) {
  if (run === messagesRun) return;
  messagesRun = run;
  if (run) {
    pollStats();
  } else {
    clearTimeout(statsTimer);
    $('msg-statuses').hidden = true;
    messageNote('The message path does not run in this process (no store).');
  }
}

function onMessageEvent(data) {
  rates.add(data.status, Date.now());
  if (totals !== null) totals[data.status] = (totals[data.status] ?? 0) + 1;
  renderMessages();
  // The queue depth moved: read it soon, once for a burst of events.
  if (statsSoon === null) {
    statsSoon = setTimeout(() => {
      statsSoon = null;
      if (messagesRun) pollStats();
    }, 250);
  }
}

// ---- loading and live updates --------------------------------------------------------------

async function loadAll() {
  let cursor = null;
  do {
    const query = `limit=${PAGE_LIMIT}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`;
    const page = await api('GET', `/binds?${query}`);
    for (const summary of page.binds) table.upsert(summary);
    render();
    cursor = page.nextCursor;
  } while (cursor);
}

const LIVE_TEXT = {
  connecting: 'connecting…',
  live: 'live',
  waiting: 'reconnecting',
  unauthorized: 'needs token',
};

function onEvent(name, data) {
  if (name === 'snapshot') {
    const ids = new Set();
    for (const entry of data.binds) {
      ids.add(entry.id);
      table.upsert(entry);
    }
    table.retain(ids);
    if (typeof data.messages === 'boolean') onMessagesRun(data.messages);
  } else if (name === 'transition') {
    if (!table.byId.has(data.bindId)) return;
    table.upsert({ id: data.bindId, status: data.to, code: data.code, reason: data.reason, since: data.at });
    detailChanged(data.bindId);
  } else if (name === 'bind') {
    table.upsert(data);
    if (data.probe?.rttMs !== null && data.probe?.rttMs !== undefined)
      table.addRtt(data.id, data.probe.rttMs);
    detailChanged(data.id);
  } else if (name === 'message') {
    onMessageEvent(data);
    return;
  }
  render();
}

function start() {
  for (const button of document.querySelectorAll('[data-filter]')) {
    button.addEventListener('click', () => {
      for (const b of document.querySelectorAll('[data-filter]'))
        b.setAttribute('aria-pressed', String(b === button));
      table.setFilter(button.dataset.filter);
      $('viewport').scrollTop = 0;
      render();
    });
  }
  $('search').addEventListener('input', (event) => {
    table.setSearch(event.target.value);
    $('viewport').scrollTop = 0;
    render();
  });
  $('viewport').addEventListener('scroll', render, { passive: true });
  window.addEventListener('resize', render);
  $('detail-close').addEventListener('click', () => {
    openId = null;
    $('detail').hidden = true;
    render();
  });
  $('token-button').addEventListener('click', () =>
    askToken('Enter the bearer token the API calls should carry.'),
  );

  followEvents({
    url: '/events?binds=true',
    headers: authHeaders,
    onEvent,
    onState: (state, detail) => {
      const el = $('live');
      el.dataset.live = state;
      el.textContent =
        state === 'waiting' ? `reconnecting in ${Math.ceil(detail.delayMs / 1000)} s` : LIVE_TEXT[state];
    },
    onUnauthorized: () => askToken('Reading the binds needs a bearer token (auth.protectReads).'),
  });
  loadAll().catch((error) => toast(`loading the binds failed: ${error.message}`, true));
  render();
  buildMessageCells();
  // The last minute's counts decay without events.
  setInterval(renderMessages, 1_000);
}

start();
