/**
 * The HA overlay (deploy/kubernetes/overlays/ha) renders, and what it renders is what its README
 * promises: 3 replicas rolling one at a time without dropping below 3, a PodDisruptionBudget
 * over the same pods, the PostgreSQL URL from a Secret (so the ConfigMap loads with store.url
 * set), the lease owner from the pod name, replicas spread across nodes, a grace period that
 * covers the shutdown — and nothing else of the base changed: probes, ports, volumes and
 * security context are the base's.
 *
 * Rendered by test/deploy/kustomize.ts; where `kubectl` is installed, also by `kubectl kustomize`
 * (kustomize itself), and the two must agree.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { parseConfigText } from '../../src/config/load-config.js';
import { type KubeObject, renderKustomization } from './kustomize.js';

const BASE = 'deploy/kubernetes';
const HA = 'deploy/kubernetes/overlays/ha';
/** leases.renewIntervalMs by default: a new replica claims its share within one or two of them. */
const RENEW_INTERVAL_MS = 2_000;
/** serve's slack on top of the shutdown bounds before it exits regardless (src/cli/serve.ts). */
const SHUTDOWN_SLACK_MS = 2_000;

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    secretKeyRef?: { name: string; key: string };
    fieldRef?: { fieldPath: string };
  };
}
interface Container {
  name: string;
  env?: EnvVar[];
  envFrom?: { secretRef?: { name: string } }[];
  lifecycle?: { preStop?: { exec?: { command: string[] }; sleep?: { seconds: number } } };
  volumeMounts?: { name: string; mountPath: string }[];
  [key: string]: unknown;
}
interface PodSpec {
  containers: Container[];
  volumes?: { name: string; [source: string]: unknown }[];
  terminationGracePeriodSeconds?: number;
  affinity?: {
    podAntiAffinity?: {
      preferredDuringSchedulingIgnoredDuringExecution?: {
        weight: number;
        podAffinityTerm: { topologyKey: string; labelSelector: { matchLabels: Record<string, string> } };
      }[];
    };
  };
  [key: string]: unknown;
}
interface Deployment extends KubeObject {
  spec: {
    replicas: number;
    minReadySeconds?: number;
    strategy: { type: string; rollingUpdate?: { maxSurge: number; maxUnavailable: number } };
    selector: { matchLabels: Record<string, string> };
    template: { metadata: { labels: Record<string, string> }; spec: PodSpec };
  };
}
interface Secret extends KubeObject {
  stringData: Record<string, string>;
}
interface Pdb extends KubeObject {
  spec: { maxUnavailable?: number; minAvailable?: number; selector: { matchLabels: Record<string, string> } };
}

const base = renderKustomization(BASE);
const ha = renderKustomization(HA);
const find = <T extends KubeObject>(objects: KubeObject[], kind: string, name?: string): T => {
  const found = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  expect(found, `${kind} ${name ?? ''}`).toHaveLength(1);
  return found[0] as T;
};
const baseDeployment = find<Deployment>(base, 'Deployment');
const deployment = find<Deployment>(ha, 'Deployment');
const pod = deployment.spec.template.spec;
const container = pod.containers.find((c) => c.name === 'smpp-bridge')!;
const basePod = baseDeployment.spec.template.spec;
const baseContainer = basePod.containers.find((c) => c.name === 'smpp-bridge')!;

/** The environment the container gets: envFrom Secrets, then env (Secret keys and the pod's name resolved). */
function containerEnv(podName: string): Record<string, string> {
  const secret = (name: string): Secret => find<Secret>(ha, 'Secret', name);
  const env: Record<string, string> = {};
  for (const from of container.envFrom ?? []) Object.assign(env, secret(from.secretRef!.name).stringData);
  for (const item of container.env ?? []) {
    const ref = item.valueFrom?.secretKeyRef;
    const field = item.valueFrom?.fieldRef?.fieldPath;
    if (ref !== undefined) {
      const value = secret(ref.name).stringData[ref.key];
      expect(value, `${item.name}: key ${ref.key} of Secret ${ref.name}`).toBeDefined();
      env[item.name] = value!;
    } else if (field !== undefined) {
      expect(field).toBe('metadata.name');
      env[item.name] = podName;
    } else {
      env[item.name] = item.value ?? '';
    }
  }
  return env;
}

/** A shallow copy of `object` without `keys`. */
function without(object: object, ...keys: string[]): Record<string, unknown> {
  const copy: Record<string, unknown> = { ...object };
  for (const key of keys) delete copy[key];
  return copy;
}

describe('deploy/kubernetes/overlays/ha', () => {
  it('runs 3 replicas, rolling one at a time and never fewer than 3, each new one given time to take its share', () => {
    expect(deployment.spec.replicas).toBe(3);
    expect(deployment.spec.strategy).toEqual({
      type: 'RollingUpdate',
      rollingUpdate: { maxSurge: 1, maxUnavailable: 0 },
    });
    expect((deployment.spec.minReadySeconds ?? 0) * 1000).toBeGreaterThanOrEqual(2 * RENEW_INTERVAL_MS);
    // The base stays the single SQLite replica.
    expect(baseDeployment.spec.replicas).toBe(1);
    expect(baseDeployment.spec.strategy).toEqual({ type: 'Recreate' });
  });

  it('has a PodDisruptionBudget over the same pods that lets one go at a time and keeps two', () => {
    const pdb = find<Pdb>(ha, 'PodDisruptionBudget');
    expect(pdb.apiVersion).toBe('policy/v1');
    expect(pdb.spec.selector.matchLabels).toEqual(deployment.spec.selector.matchLabels);
    expect(deployment.spec.template.metadata.labels).toMatchObject(pdb.spec.selector.matchLabels);
    const replicas = deployment.spec.replicas;
    const keeps = pdb.spec.minAvailable ?? replicas - (pdb.spec.maxUnavailable ?? 0);
    expect(keeps).toBe(replicas - 1);
    expect(keeps).toBeGreaterThanOrEqual(2);
  });

  it('takes the PostgreSQL URL from a Secret and the lease owner from the pod name', () => {
    const storeUrl = container.env?.find((e) => e.name === 'SMPP_BRIDGE_STORE_URL');
    expect(storeUrl?.value).toBeUndefined();
    expect(storeUrl?.valueFrom?.secretKeyRef).toEqual({ name: 'smpp-bridge-store', key: 'url' });
    const owner = container.env?.find((e) => e.name === 'SMPP_BRIDGE_LEASE_OWNER');
    expect(owner?.valueFrom).toEqual({ fieldRef: { fieldPath: 'metadata.name' } });
    // The base's Secret (SMPP passwords, API tokens) still comes in whole.
    expect(container.envFrom).toEqual(baseContainer.envFrom);
    const env = containerEnv('smpp-bridge-6f7d9c8b5-x2k4q');
    expect(env.SMPP_BRIDGE_STORE_URL).toMatch(/^postgres:\/\//);
    expect(env.SMPP_BRIDGE_LEASE_OWNER).toBe('smpp-bridge-6f7d9c8b5-x2k4q');
  });

  it('loads the ConfigMap with that environment onto the PostgreSQL store', () => {
    const configMap = find<KubeObject & { data: Record<string, string> }>(ha, 'ConfigMap');
    const env = containerEnv('smpp-bridge-6f7d9c8b5-x2k4q');
    const config = parseConfigText(configMap.data['config.yaml']!, { env, baseDir: BASE });
    expect(config.store.url).toBe(env.SMPP_BRIDGE_STORE_URL);
    expect(config.binds.length).toBeGreaterThan(0);
    // Without the overlay's variable the same file is the SQLite store.
    const { SMPP_BRIDGE_STORE_URL: _url, ...sqliteEnv } = env;
    expect(
      parseConfigText(configMap.data['config.yaml']!, { env: sqliteEnv, baseDir: BASE }).store.url,
    ).toBeFalsy();
  });

  it('mounts no volume for a SQLite file: only the config', () => {
    expect(pod.volumes).toEqual(basePod.volumes);
    expect(pod.volumes?.every((v) => 'configMap' in v || 'secret' in v)).toBe(true);
    expect(container.volumeMounts?.map((m) => m.mountPath)).toEqual(['/etc/smpp-bridge']);
  });

  it('prefers one replica per node', () => {
    const terms = pod.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? [];
    expect(terms).toHaveLength(1);
    expect(terms[0]!.podAffinityTerm.topologyKey).toBe('kubernetes.io/hostname');
    expect(deployment.spec.template.metadata.labels).toMatchObject(
      terms[0]!.podAffinityTerm.labelSelector.matchLabels,
    );
  });

  it('waits in preStop while the pod leaves the Service, and gives the whole shutdown time to finish', () => {
    const preStop = container.lifecycle?.preStop;
    const command = preStop?.exec?.command ?? [];
    expect(command[0]).toBe('sleep');
    const preStopMs = Number(command[1]) * 1000;
    expect(preStopMs).toBeGreaterThanOrEqual(1000);
    const configMap = find<KubeObject & { data: Record<string, string> }>(ha, 'ConfigMap');
    const { shutdown } = parseConfigText(configMap.data['config.yaml']!, {
      env: containerEnv('p'),
      baseDir: BASE,
    });
    // Every step of serve's shutdown at its bound, one after the other: HTTP drain, submit_sm
    // responses in flight and unbinding (unbindTimeoutMs each), webhook grace (httpDrainTimeoutMs).
    const shutdownMs = 2 * shutdown.httpDrainTimeoutMs + 2 * shutdown.unbindTimeoutMs + SHUTDOWN_SLACK_MS;
    expect((pod.terminationGracePeriodSeconds ?? 30) * 1000).toBeGreaterThanOrEqual(preStopMs + shutdownMs);
  });

  it('changes nothing else of the base: probes, ports, image, security, resources are the same', () => {
    expect(container.readinessProbe).toEqual(baseContainer.readinessProbe);
    expect(container.livenessProbe).toEqual(baseContainer.livenessProbe);
    expect(container.startupProbe).toEqual(baseContainer.startupProbe);
    expect(without(container, 'env', 'lifecycle')).toEqual(without(baseContainer, 'env', 'lifecycle'));
    expect(container.env?.filter((e) => !e.name.startsWith('SMPP_BRIDGE_'))).toEqual(baseContainer.env);
    expect(pod.containers).toHaveLength(basePod.containers.length);
    expect(without(pod, 'containers', 'affinity', 'terminationGracePeriodSeconds')).toEqual(
      without(basePod, 'containers', 'affinity', 'terminationGracePeriodSeconds'),
    );
    expect(without(deployment.spec, 'replicas', 'strategy', 'minReadySeconds', 'template')).toEqual(
      without(baseDeployment.spec, 'replicas', 'strategy', 'minReadySeconds', 'template'),
    );
    // The base's other objects come through untouched; the overlay adds the store Secret and the PDB.
    for (const object of base)
      expect(
        ha.filter((o) => o.kind === object.kind && o.metadata.name === object.metadata.name),
      ).toHaveLength(1);
    for (const object of base.filter((o) => o.kind !== 'Deployment')) {
      expect(find(ha, object.kind, object.metadata.name)).toEqual(object);
    }
    expect(ha.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      [
        ...base.map((o) => `${o.kind}/${o.metadata.name}`),
        'PodDisruptionBudget/smpp-bridge',
        'Secret/smpp-bridge-store',
      ].sort(),
    );
  });
});

describe('the HA documentation', () => {
  /** Relative links of a Markdown file: [text](target) without a scheme. */
  const links = (file: string): string[] =>
    [...readFileSync(file, 'utf8').matchAll(/\]\(([^)\s]+)\)/g)]
      .map((m) => m[1]!)
      .filter((target) => !/^[a-z]+:/.test(target));
  /** GitHub's anchors of the main README's headings. */
  const anchors = (readFileSync('README.md', 'utf8').match(/^#+ .*$/gm) ?? []).map((heading) =>
    heading
      .replace(/^#+ /, '')
      .toLowerCase()
      .replace(/[^a-z0-9 -]/g, '')
      .replace(/ /g, '-'),
  );

  it('links files that exist, and sections of the main README that exist', () => {
    for (const file of [`${HA}/README.md`, 'README.md']) {
      for (const link of links(file)) {
        const [path = '', anchor] = link.split('#');
        const target = path === '' ? resolve(file) : resolve(dirname(file), path);
        expect(existsSync(target), `${file}: ${link}`).toBe(true);
        if (anchor !== undefined && target === resolve('README.md')) {
          expect(anchors, `${file}: ${link}`).toContain(anchor);
        }
      }
    }
    expect(links('README.md')).toContain('deploy/kubernetes/overlays/ha/');
    expect(links(`${HA}/README.md`)).toContain(
      '../../../../README.md#one-replica-or-several-sqlite-or-postgresql',
    );
  });
});

describe('rendering deploy/kubernetes', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'smpp-bridge-kustomize-'));
  afterAll(() => rmSync(scratch, { recursive: true, force: true }));

  /** `kubectl kustomize dir` as objects; undefined when kubectl is not installed. */
  function kubectlKustomize(dir: string): { objects?: KubeObject[]; error?: string } | undefined {
    const run = spawnSync('kubectl', ['kustomize', dir], { encoding: 'utf8', timeout: 20_000 });
    if (run.error && (run.error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    if (run.status !== 0) return { error: run.stderr || String(run.error) };
    return { objects: parseAllDocuments(run.stdout).map((d) => d.toJS() as KubeObject) };
  }
  const byId = (objects: KubeObject[]): KubeObject[] =>
    [...objects].sort((a, b) => `${a.kind}/${a.metadata.name}`.localeCompare(`${b.kind}/${b.metadata.name}`));

  it('renders the base and the overlay exactly as kustomize does (where kubectl is installed)', () => {
    expect(renderKustomization(`${BASE}/base`)).toEqual(base);
    const kubectl = [BASE, HA].map((dir) => kubectlKustomize(dir));
    if (kubectl[0] === undefined) {
      console.warn(
        '\n*** kubectl not installed: the overlay is checked by test/deploy/kustomize.ts only ***\n',
      );
      return;
    }
    expect(kubectl[0].error).toBeUndefined();
    expect(kubectl[1]!.error).toBeUndefined();
    expect(byId(base)).toEqual(byId(kubectl[0].objects!));
    expect(byId(ha)).toEqual(byId(kubectl[1]!.objects!));
  });

  it('refuses a patch that matches no resource, an overlay inside its base, and keys it does not know', () => {
    const baseDir = resolve(BASE, 'base');
    const write = (dir: string, files: Record<string, string>): string => {
      const path = join(scratch, dir);
      mkdirSync(path, { recursive: true });
      for (const [name, text] of Object.entries(files)) writeFileSync(join(path, name), text);
      return path;
    };
    const typo = write('typo', {
      'kustomization.yaml': `resources: [${JSON.stringify(baseDir)}]\npatches: [{ path: p.yaml }]\n`,
      'p.yaml':
        'apiVersion: apps/v1\nkind: Deployment\nmetadata: { name: smpp-brigde }\nspec: { replicas: 3 }\n',
    });
    const outer = write('outer', { 'kustomization.yaml': `resources: [${JSON.stringify(baseDir)}]\n` });
    const inner = write('outer/overlays/ha', { 'kustomization.yaml': 'resources: [../..]\n' });
    const unknown = write('unknown', {
      'kustomization.yaml': `resources: [${JSON.stringify(baseDir)}]\nreplicas: [{ name: smpp-bridge, count: 3 }]\n`,
    });
    expect(() => renderKustomization(typo)).toThrow(/no resource Deployment\/smpp-brigde/);
    expect(() => renderKustomization(inner)).toThrow(/cycle detected/);
    expect(() => renderKustomization(unknown)).toThrow(/`replicas` is not supported/);
    expect(renderKustomization(outer)).toEqual(base);
    // kustomize agrees on the first two (it supports `replicas`).
    for (const dir of [typo, inner]) {
      const kubectl = kubectlKustomize(dir);
      if (kubectl !== undefined) expect(kubectl.error, dir).toBeDefined();
    }
  });
});
