/**
 * The Kubernetes manifests are wired to real routes: every probe path is an operation of the
 * committed OpenAPI document, and the ConfigMap's config.yaml loads with the Secret's variables.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments, parse as parseYaml } from 'yaml';
import { parseConfigText } from '../../src/config/load-config.js';

/** The single-replica manifests (`kubectl apply -k deploy/kubernetes` applies them). */
const DIR = 'deploy/kubernetes/base';

interface K8sObject {
  kind: string;
  metadata: { name: string };
  data?: Record<string, string>;
  stringData?: Record<string, string>;
  spec?: {
    template?: {
      spec: {
        containers: {
          name: string;
          ports?: { name: string; containerPort: number }[];
          livenessProbe?: Probe;
          readinessProbe?: Probe;
          startupProbe?: Probe;
        }[];
      };
    };
  };
}
interface Probe {
  httpGet?: { path: string; port: string | number };
}

const objects: K8sObject[] = readdirSync(DIR)
  .filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml')
  .flatMap((f) => parseAllDocuments(readFileSync(join(DIR, f), 'utf8')).map((d) => d.toJS() as K8sObject));
const openapi = parseYaml(readFileSync('openapi/openapi.yaml', 'utf8')) as {
  paths: Record<string, Record<string, unknown>>;
};

/** Whether a concrete path (query string removed) matches an OpenAPI GET path template. */
function isGetRoute(path: string): boolean {
  const bare = path.split('?')[0]!;
  return Object.entries(openapi.paths).some(([template, ops]) => {
    if (!('get' in ops)) return false;
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    return pattern.test(bare);
  });
}

describe('deploy/kubernetes', () => {
  const deployment = objects.find((o) => o.kind === 'Deployment')!;
  const container = deployment.spec!.template!.spec.containers[0]!;

  it('has liveness, readiness and startup probes on routes of the OpenAPI document', () => {
    const probes = [container.livenessProbe, container.readinessProbe, container.startupProbe];
    for (const probe of probes) {
      expect(probe?.httpGet).toBeDefined();
      expect(isGetRoute(probe!.httpGet!.path), probe!.httpGet!.path).toBe(true);
      const port = probe!.httpGet!.port;
      expect(container.ports?.some((p) => p.name === port || p.containerPort === port)).toBe(true);
    }
    expect(container.readinessProbe!.httpGet!.path).toBe('/readyz');
    expect(container.livenessProbe!.httpGet!.path).toBe('/livez');
  });

  it('documents a per-bind readiness URL that is a route too', () => {
    const text = readFileSync(join(DIR, 'deployment.yaml'), 'utf8');
    const url = /(\/binds\/[\w.-]+\/health\?\S+)/.exec(text)?.[1];
    expect(url).toBeDefined();
    expect(isGetRoute(url!)).toBe(true);
    expect(url).toMatch(/maxLatencyMs=\d+/);
  });

  it('ships a ConfigMap config.yaml that loads with the variables of the Secret', () => {
    const configMap = objects.find((o) => o.kind === 'ConfigMap')!;
    const secret = objects.find((o) => o.kind === 'Secret')!;
    const config = parseConfigText(configMap.data!['config.yaml']!, {
      env: secret.stringData!,
      baseDir: DIR,
    });
    expect(config.binds.length).toBeGreaterThan(0);
    expect(config.http.port).toBe(8080);
  });
});
