import { describe, expect, it } from 'vitest';
describe('toolchain', () => {
  it('runs TypeScript tests', () => {
    expect(1 + 1).toBe(2);
  });
});
