/**
 * The Grafana dashboard (deploy/grafana/smpp-bridge.json) imports as is: valid JSON with a
 * datasource input, a `bind` variable, panels that do not overlap, and PromQL that selects only
 * metrics smpp-bridge serves — and, with promtool installed, parses.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { metricNamesOf, SERIES_NAMES } from './metric-contract.js';

interface Target {
  expr: string;
  refId: string;
  datasource?: { type: string; uid: string };
}
interface Panel {
  id: number;
  type: string;
  title: string;
  datasource: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  /** Absent on rows. */
  targets?: Target[];
}
interface Dashboard {
  __inputs: { name: string; type: string; pluginId: string }[];
  uid: string;
  title: string;
  panels: Panel[];
  templating: {
    list: { name: string; type: string; query: { query: string } | string; datasource: object }[];
  };
}

const dashboard = JSON.parse(readFileSync('deploy/grafana/smpp-bridge.json', 'utf8')) as Dashboard;
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's import placeholder, filled in on import.
const DS_UID = '${DS_PROMETHEUS}';
const variable = dashboard.templating.list.find((v) => v.name === 'bind');
const variableQuery = typeof variable?.query === 'string' ? variable.query : (variable?.query.query ?? '');
const rows = dashboard.panels.filter((p) => p.type === 'row');
const graphs = dashboard.panels.filter((p) => p.type !== 'row');
const exprs = graphs.flatMap((p) => (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })));
const variableNamed = (name: string) => dashboard.templating.list.find((v) => v.name === name);
const queryOf = (v: ReturnType<typeof variableNamed>) =>
  typeof v?.query === 'string' ? v.query : (v?.query.query ?? '');

/** A dashboard expression as Prometheus sees it once Grafana has filled in its variables. */
function substitute(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__interval', '1m')
    .replaceAll('$bind', '.*')
    .replaceAll('$route', '.*')
    .replaceAll('$endpoint', '.*');
}

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;

describe('deploy/grafana/smpp-bridge.json', () => {
  it('takes its Prometheus datasource as an import input, used by every panel and query', () => {
    expect(dashboard.__inputs).toEqual([
      expect.objectContaining({ name: 'DS_PROMETHEUS', type: 'datasource', pluginId: 'prometheus' }),
    ]);
    for (const panel of graphs) {
      expect(panel.datasource.uid, panel.title).toBe(DS_UID);
      for (const target of panel.targets ?? []) expect(target.datasource?.uid ?? DS_UID).toBe(DS_UID);
    }
    expect(variable?.datasource).toEqual({ type: 'prometheus', uid: DS_UID });
  });

  it('has a multi-value `bind` variable from the per-bind metrics, used by every per-bind query', () => {
    expect(variable?.type).toBe('query');
    expect(variableQuery).toBe('label_values(smpp_bind_up, bind)');
    const perBind = exprs.filter(({ expr }) =>
      /smpp_bind_|smpp_reconnects|smpp_probe_failures|smpp_window/.test(expr),
    );
    expect(perBind.length).toBeGreaterThan(4);
    for (const { panel, expr } of perBind) expect(expr, panel).toMatch(/bind=~"\$bind"/);
  });

  it('shows bind status, RTT percentiles, probe failures, reconnects and window use', () => {
    const used = new Set(exprs.flatMap(({ expr }) => metricNamesOf(expr)));
    for (const name of [
      'smpp_bind_status',
      'smpp_enquire_link_rtt_seconds_bucket',
      'smpp_probe_failures_total',
      'smpp_reconnects_total',
      'smpp_window_in_flight',
    ]) {
      expect(used).toContain(name);
    }
    expect(exprs.some(({ expr }) => /histogram_quantile\(0\.99,/.test(expr))).toBe(true);
  });

  it('has a Messages row: status changes by status and route, submit latency, queue depth, receipts', () => {
    expect(rows.map((r) => r.title)).toEqual(['Binds', 'Messages', 'Webhooks']);
    const used = usedIn('Messages');
    for (const name of [
      'smpp_message_status_changes_total',
      'smpp_submit_latency_seconds_bucket',
      'smpp_outbound_queued_parts',
      'smpp_receipts_total',
    ]) {
      expect(used).toContain(name);
    }
    const messageExprs = exprs.filter(({ expr }) => expr.includes('smpp_message_status_changes_total'));
    expect(messageExprs.some(({ expr }) => /by \(status\)/.test(expr))).toBe(true);
    expect(messageExprs.some(({ expr }) => /by \(route, status\)/.test(expr))).toBe(true);
    expect(
      exprs.some(({ expr }) => /histogram_quantile\(0\.99, .*smpp_submit_latency_seconds_bucket/.test(expr)),
    ).toBe(true);
    expect(exprs.some(({ expr }) => /smpp_receipts_total/.test(expr) && /by \(result\)/.test(expr))).toBe(
      true,
    );
  });

  it('has a Webhooks row: deliveries by outcome, attempt latency, outbox depth and age, disabled endpoints', () => {
    const used = usedIn('Webhooks');
    for (const name of [
      'smpp_webhook_deliveries_total',
      'smpp_webhook_attempt_duration_seconds_bucket',
      'smpp_webhook_outbox_pending',
      'smpp_webhook_outbox_oldest_pending_age_seconds',
      'smpp_webhook_endpoint_disabled',
    ]) {
      expect(used).toContain(name);
    }
    expect(exprs.some(({ expr }) => /smpp_webhook_deliveries_total/.test(expr) && /outcome/.test(expr))).toBe(
      true,
    );
  });

  it('filters the message panels by a `route` variable and the webhook panels by an `endpoint` variable', () => {
    expect(queryOf(variableNamed('route'))).toBe('label_values(smpp_message_status_changes_total, route)');
    expect(queryOf(variableNamed('endpoint'))).toBe('label_values(smpp_webhook_deliveries_total, endpoint)');
    for (const v of ['route', 'endpoint'])
      expect(variableNamed(v)?.datasource).toEqual({ type: 'prometheus', uid: DS_UID });
    for (const { panel, expr } of exprs) {
      if (/smpp_message_status_changes_total|smpp_submit_latency/.test(expr))
        expect(expr, panel).toMatch(/route=~"\$route"/);
      if (/smpp_webhook_/.test(expr)) expect(expr, panel).toMatch(/endpoint=~"\$endpoint"/);
    }
  });

  it('selects only metrics smpp-bridge serves', () => {
    const variables = dashboard.templating.list.map((v) => ({
      panel: `variable ${v.name}`,
      expr: queryOf(v).replace(/^label_values\((\w+),.*$/, '$1'),
    }));
    for (const { panel, expr } of [...exprs, ...variables]) {
      const names = metricNamesOf(expr);
      expect(names.length, expr).toBeGreaterThan(0);
      for (const name of names) expect(SERIES_NAMES, `${panel}: ${name}`).toContain(name);
    }
  });

  it('lays out panels with unique ids on the 24-column grid without overlaps', () => {
    const ids = dashboard.panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const { title, gridPos: g } of dashboard.panels) {
      expect(g.x + g.w, title).toBeLessThanOrEqual(24);
      for (let x = g.x; x < g.x + g.w; x++)
        for (let y = g.y; y < g.y + g.h; y++) {
          expect(cells.has(`${x},${y}`), `${title} overlaps at ${x},${y}`).toBe(false);
          cells.add(`${x},${y}`);
        }
    }
  });

  it.skipIf(!promtool)(
    'has PromQL that parses (each expression checked by promtool as a recording rule)',
    () => {
      const dir = mkdtempSync(join(tmpdir(), 'smpp-grafana-'));
      try {
        const file = join(dir, 'dashboard.rules.yml');
        const rules = exprs.map(({ expr }, i) => ({ record: `dashboard:expr:${i}`, expr: substitute(expr) }));
        writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
        const run = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8', timeout: 60_000 });
        expect(run.status, `${run.stdout}${run.stderr}`).toBe(0);
        expect(run.stdout).toContain(`SUCCESS: ${rules.length} rules found`);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );
});

/** Metric names used by the panels below the row titled `title`, up to the next row. */
function usedIn(title: string): Set<string> {
  const start = rows.find((r) => r.title === title)!.gridPos.y;
  const next = rows.map((r) => r.gridPos.y).filter((y) => y > start);
  const end = next.length > 0 ? Math.min(...next) : Number.POSITIVE_INFINITY;
  return new Set(
    graphs
      .filter((p) => p.gridPos.y > start && p.gridPos.y < end)
      .flatMap((p) => (p.targets ?? []).flatMap((t) => metricNamesOf(t.expr))),
  );
}

describe('metricNamesOf', () => {
  it('finds selected metrics, not functions, keywords, labels or grouping clauses', () => {
    expect(
      metricNamesOf(
        'histogram_quantile(0.9, sum by (le, bind) (rate(smpp_x_bucket{bind=~"$bind",a="up"}[5m]))) > 1 and on (bind) up offset 5m or vector(0)',
      ).sort(),
    ).toEqual(['smpp_x_bucket', 'up']);
    expect(metricNamesOf('smpp:rec:count == 0 unless smpp_b')).toEqual(['smpp:rec:count', 'smpp_b']);
  });
});
