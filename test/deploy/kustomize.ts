/**
 * The part of kustomize that deploy/kubernetes uses, so the tests can render the overlays
 * without the kustomize binary: `resources` (files and directories holding a kustomization.yaml)
 * and `patches` with `path` (strategic merge patches). Anything else in a kustomization.yaml is
 * an error here, so a feature added to the manifests that this does not know fails the tests
 * instead of being ignored.
 *
 * It follows kustomize where the manifests depend on it: a directory may not contain the root
 * that refers to it (kustomize's "cycle detected"), files must lie inside their kustomization's
 * directory, two resources with one kind and name are an error, and so is a patch that matches
 * nothing. A strategic merge patch merges maps key by key (`null` deletes), merges the lists
 * Kubernetes gives a merge key (containers and env by `name`, ...) item by item — the patch's
 * items first, in its order, then the others, as kustomize writes them — and replaces every
 * other list. Where `kubectl` is installed, test/deploy/kubernetes-ha.test.ts checks that this
 * renders exactly what `kubectl kustomize` does.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { parseAllDocuments, parse as parseYaml } from 'yaml';

export interface KubeObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; labels?: Record<string, string>; [key: string]: unknown };
  [key: string]: unknown;
}

type Tree = Record<string, unknown>;

const KUSTOMIZATION_KEYS = new Set(['apiVersion', 'kind', 'resources', 'patches']);

/** Lists whose items a strategic merge patch merges by a key, by the name of the field holding them. */
const MERGE_KEYS: Record<string, string> = {
  containers: 'name',
  initContainers: 'name',
  env: 'name',
  volumes: 'name',
  volumeMounts: 'mountPath',
  ports: 'containerPort',
  imagePullSecrets: 'name',
};

/** The objects `kustomize build dir` would output (in resource order, not kustomize's kind order). */
export function renderKustomization(dir: string): KubeObject[] {
  return build(resolve(dir), []);
}

function build(root: string, visiting: readonly string[]): KubeObject[] {
  const file = join(root, 'kustomization.yaml');
  if (!existsSync(file)) throw new Error(`${root}: no kustomization.yaml`);
  const kustomization = parseYaml(readFileSync(file, 'utf8')) as Tree;
  for (const key of Object.keys(kustomization)) {
    if (!KUSTOMIZATION_KEYS.has(key))
      throw new Error(`${file}: \`${key}\` is not supported by this renderer`);
  }
  const objects: KubeObject[] = [];
  const add = (object: KubeObject, from: string): void => {
    if (objects.some((o) => sameId(o, object))) {
      throw new Error(`${from}: ${object.kind}/${object.metadata.name} is already a resource`);
    }
    objects.push(object);
  };
  for (const entry of (kustomization.resources ?? []) as string[]) {
    const path = resolve(root, entry);
    if (!existsSync(path)) throw new Error(`${file}: resource ${entry} does not exist`);
    if (statSync(path).isDirectory()) {
      for (const seen of [...visiting, root]) {
        if (inside(seen, path)) throw new Error(`${file}: cycle detected: ${entry} contains ${seen}`);
      }
      for (const object of build(path, [...visiting, root])) add(object, entry);
    } else {
      if (!inside(path, root)) throw new Error(`${file}: ${entry} is not in or below ${root}`);
      for (const object of readObjects(path)) add(object, entry);
    }
  }
  for (const entry of (kustomization.patches ?? []) as Tree[]) {
    const keys = Object.keys(entry);
    if (keys.length !== 1 || typeof entry.path !== 'string') {
      throw new Error(`${file}: only patches with \`path\` alone are supported, got ${keys.join(', ')}`);
    }
    const path = resolve(root, entry.path);
    if (!inside(path, root)) throw new Error(`${file}: ${entry.path} is not in or below ${root}`);
    for (const patch of readObjects(path)) {
      const index = objects.findIndex((o) => sameId(o, patch));
      if (index < 0)
        throw new Error(`${entry.path}: no resource ${patch.kind}/${patch.metadata.name} to patch`);
      objects[index] = strategicMerge(objects[index]!, patch, '') as KubeObject;
    }
  }
  return objects;
}

function readObjects(path: string): KubeObject[] {
  return parseAllDocuments(readFileSync(path, 'utf8'))
    .map((d) => d.toJS() as KubeObject | null)
    .filter((o): o is KubeObject => o !== null);
}

function sameId(a: KubeObject, b: KubeObject): boolean {
  const group = (o: KubeObject): string => (o.apiVersion.includes('/') ? o.apiVersion.split('/')[0]! : '');
  return a.kind === b.kind && a.metadata.name === b.metadata.name && group(a) === group(b);
}

/** Whether `path` is `dir` or below it. */
function inside(path: string, dir: string): boolean {
  const rel = relative(dir, path);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** `patch` applied to `target` as a strategic merge patch; `field` names the key holding them. */
export function strategicMerge(target: unknown, patch: unknown, field: string): unknown {
  if (isTree(patch)) {
    if ('$patch' in patch || Object.keys(patch).some((k) => k.startsWith('$'))) {
      throw new Error(`patch directives ($patch, $setElementOrder, ...) are not supported (in ${field})`);
    }
    const merged: Tree = isTree(target) ? { ...target } : {};
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete merged[key];
      else merged[key] = strategicMerge(merged[key], value, key);
    }
    return merged;
  }
  const mergeKey = MERGE_KEYS[field];
  if (Array.isArray(patch) && Array.isArray(target) && mergeKey !== undefined) {
    const keyOf = (item: unknown): unknown => (isTree(item) ? item[mergeKey] : undefined);
    const patched = patch.map((item) => {
      if (keyOf(item) === undefined) throw new Error(`an item of ${field} has no ${mergeKey}`);
      return strategicMerge(
        target.find((t) => keyOf(t) === keyOf(item)),
        item,
        '',
      );
    });
    const rest = target.filter((t) => !patch.some((item) => keyOf(item) === keyOf(t)));
    return [...patched, ...rest];
  }
  return patch;
}
