/**
 * The alert and recording rules (deploy/prometheus/), their Prometheus Operator copy and the
 * ServiceMonitor (deploy/kubernetes/): the rules use only metrics smpp-bridge serves, every alert
 * has a promtool unit test, the PrometheusRule never drifts from the rules file, and — with
 * promtool installed (Debian package `prometheus`) — the rules load and their unit tests pass.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { metricNamesOf, SERIES_NAMES } from './metric-contract.js';

const RULES_FILE = 'deploy/prometheus/smpp-bridge.rules.yml';
const RULES_TEST_FILE = 'deploy/prometheus/smpp-bridge.rules.test.yml';

interface Rule {
  record?: string;
  alert?: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}
interface RuleGroup {
  name: string;
  rules: Rule[];
}

const rules = parseYaml(readFileSync(RULES_FILE, 'utf8')) as { groups: RuleGroup[] };
const allRules = rules.groups.flatMap((g) => g.rules);
const alerts = allRules.filter((r) => r.alert !== undefined);
const records = new Set(allRules.flatMap((r) => (r.record ? [r.record] : [])));

interface KubeObject {
  kind: string;
  metadata: { name: string; labels?: Record<string, string> };
  spec: {
    groups?: RuleGroup[];
    selector?: { matchLabels: Record<string, string> };
    endpoints?: { port: string; path: string }[];
    ports?: { name: string }[];
  };
}

function kubeObjects(file: string): KubeObject[] {
  return parseAllDocuments(readFileSync(`deploy/kubernetes/${file}`, 'utf8')).map(
    (d) => d.toJS() as KubeObject,
  );
}

const promtool = spawnSync('promtool', ['--version'], { encoding: 'utf8' }).status === 0;

function runPromtool(args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { encoding: 'utf8', timeout: 60_000 });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('deploy/prometheus rules', () => {
  it('select only metrics of the contract, scrape-job series and their own recording rules', () => {
    const known = new Set([...SERIES_NAMES, ...records, 'up', 'probe_success']);
    for (const rule of allRules) {
      const names = metricNamesOf(rule.expr);
      expect(names.length, rule.expr).toBeGreaterThan(0);
      for (const name of names) expect(known, `${rule.alert ?? rule.record}: ${name}`).toContain(name);
    }
  });

  it('alert on the health model: unhealthy, flapping, latency, probe failures, readiness, target down', () => {
    const names = alerts.map((a) => a.alert);
    expect(names).toEqual(
      expect.arrayContaining([
        'SmppBindUnhealthy',
        'SmppBindFlapping',
        'SmppBindHighLatency',
        'SmppBindProbesFailing',
        'SmppBridgeNotReady',
        'SmppBridgeDown',
      ]),
    );
    const unhealthy = alerts.find((a) => a.alert === 'SmppBindUnhealthy')!;
    // Longer than the detection bound with the defaults: 30 s + 2 × 10 s = 50 s.
    expect(durationMs(unhealthy.for!)).toBeGreaterThan(30_000 + 2 * 10_000);
    // degradedLatencyMs defaults to 1000 ms.
    expect(alerts.find((a) => a.alert === 'SmppBindHighLatency')!.expr).toMatch(/>\s*1$/);
  });

  it('alert on the message path: queue backed up, messages failing, receipts orphaned, webhooks stuck', () => {
    expect(alerts.map((a) => a.alert)).toEqual(
      expect.arrayContaining([
        'SmppOutboundQueueGrowing',
        'SmppOutboundQueueStalled',
        'SmppMessagesFailing',
        'SmppReceiptsOrphaned',
        'SmppWebhookOutboxStale',
        'SmppWebhookEndpointDisabled',
      ]),
    );
    const used = (alert: string) => {
      const rule = alerts.find((a) => a.alert === alert)!;
      // Through a recording rule: the metrics its expression reads.
      return metricNamesOf(rule.expr).flatMap((name) => {
        const recorded = allRules.find((r) => r.record === name);
        return recorded ? metricNamesOf(recorded.expr) : [name];
      });
    };
    expect(used('SmppWebhookOutboxStale')).toContain('smpp_webhook_outbox_oldest_pending_age_seconds');
    expect(used('SmppWebhookEndpointDisabled')).toContain('smpp_webhook_endpoint_disabled');
    expect(used('SmppOutboundQueueGrowing')).toContain('smpp_outbound_queued_parts');
    expect(used('SmppReceiptsOrphaned')).toContain('smpp_receipts_total');
    expect(used('SmppMessagesFailing')).toContain('smpp_message_status_changes_total');
  });

  it('give every alert a severity, a summary and a description, and a promtool unit test', () => {
    const tests = readFileSync(RULES_TEST_FILE, 'utf8');
    for (const alert of alerts) {
      expect(['critical', 'warning', 'info']).toContain(alert.labels?.severity);
      expect(alert.annotations?.summary, alert.alert).toBeTruthy();
      expect(alert.annotations?.description, alert.alert).toBeTruthy();
      expect(tests, `no promtool test for ${alert.alert}`).toMatch(
        new RegExp(`alertname: ${alert.alert}\\b`),
      );
    }
  });

  it.skipIf(!promtool)('load in promtool, and pass their unit tests (promtool test rules)', () => {
    const check = runPromtool(['check', 'rules', RULES_FILE]);
    expect(check.status, check.output).toBe(0);
    const test = runPromtool(['test', 'rules', RULES_TEST_FILE]);
    expect(test.status, test.output).toBe(0);
    expect(test.output).toContain('SUCCESS');
    const config = runPromtool(['check', 'config', 'deploy/prometheus/prometheus.yml']);
    expect(config.status, config.output).toBe(0);
  });
});

describe('deploy/kubernetes monitoring (Prometheus Operator)', () => {
  it('PrometheusRule holds exactly the groups of the rules file', () => {
    const [rule] = kubeObjects('prometheusrule.yaml');
    expect(rule!.kind).toBe('PrometheusRule');
    expect(rule!.spec.groups).toEqual(rules.groups);
  });

  it('ServiceMonitor scrapes /metrics on a port of the Service, as the job the rules expect', () => {
    const [monitor] = kubeObjects('servicemonitor.yaml');
    const service = kubeObjects('base/service.yaml').find((o) => o.kind === 'Service')!;
    expect(monitor!.kind).toBe('ServiceMonitor');
    expect(monitor!.spec.selector?.matchLabels).toEqual(service.metadata.labels);
    const ports = (service.spec.ports ?? []).map((p) => p.name);
    expect(monitor!.spec.endpoints?.length).toBeGreaterThan(0);
    for (const endpoint of monitor!.spec.endpoints ?? []) {
      expect(ports).toContain(endpoint.port);
      expect(endpoint.path).toBe('/metrics');
    }
    // The operator names the job after the Service; the rules select job="smpp-bridge".
    const jobs = new Set(allRules.flatMap((r) => [...r.expr.matchAll(/\bjob="([^"]+)"/g)].map((m) => m[1])));
    expect(jobs).toContain(service.metadata.name);
    const openapi = parseYaml(readFileSync('openapi/openapi.yaml', 'utf8')) as {
      paths: Record<string, object>;
    };
    expect(openapi.paths['/metrics']).toHaveProperty('get');
  });
});

function durationMs(text: string): number {
  const units: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
  let total = 0;
  for (const [, n, unit] of text.matchAll(/(\d+)(ms|s|m|h)/g)) total += Number(n) * units[unit!]!;
  return total;
}
