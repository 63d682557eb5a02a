/**
 * Regenerates deploy/kubernetes/prometheusrule.yaml from deploy/prometheus/smpp-bridge.rules.yml:
 * the same groups, under the PrometheusRule header (the comments stay in the rules file).
 * Run after editing the rules: `npx tsx scripts/sync-prometheusrule.ts`; test/deploy/prometheus.test.ts
 * fails while the two differ.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { parse, stringify } from 'yaml';

const RULES = 'deploy/prometheus/smpp-bridge.rules.yml';
const TARGET = 'deploy/kubernetes/prometheusrule.yaml';

const { groups } = parse(readFileSync(RULES, 'utf8')) as { groups: unknown[] };
const header = `# For the Prometheus Operator: the groups of ${RULES}, verbatim
# (test/deploy/prometheus.test.ts fails when they differ; the comments explaining each rule are
# there). Regenerate with \`npx tsx scripts/sync-prometheusrule.ts\`.
# Not in kustomization.yaml (it needs the operator CRDs): \`kubectl apply -f prometheusrule.yaml\`.
`;
const resource = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: { name: 'smpp-bridge', labels: { 'app.kubernetes.io/name': 'smpp-bridge' } },
  spec: { groups },
};
writeFileSync(TARGET, header + stringify(resource, { lineWidth: 0 }));
