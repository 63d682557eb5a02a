/**
 * The Dockerfile builds and runs on one Node image, a slim one, whose major version the package's
 * `engines` accepts — and the one the README says the image runs.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const dockerfile = readFileSync('Dockerfile', 'utf8');
const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };

describe('Dockerfile', () => {
  it('uses one slim Node image for build and run, of a version engines accepts and the README names', () => {
    const images = [...dockerfile.matchAll(/^FROM\s+(\S+)/gm)].map((m) => m[1]!);
    expect(images.length).toBeGreaterThanOrEqual(2);
    expect(new Set(images).size).toBe(1);
    const major = Number(/^node:(\d+)-(?:[a-z]+-)?slim$/.exec(images[0]!)?.[1]);
    const minMajor = Number(/^>=\s*(\d+)/.exec(pkg.engines.node)?.[1]);
    expect(major).toBeGreaterThanOrEqual(minMajor);
    expect(readFileSync('README.md', 'utf8')).toContain(`the Docker image runs Node ${major}`);
  });
});
