/** "Did you mean" for unknown config keys: catches case, snake_case and small typos. */

const normalise = (key: string): string => key.toLowerCase().replace(/[-_\s]/g, '');

/**
 * Edit distance counting a substitution, insertion, deletion or swap of two neighbouring
 * letters as one edit (optimal string alignment), so `prot` is one edit from `port`.
 */
export function editDistance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) =>
    Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]?.[j] ?? 0;
  for (let i = 1; i <= a.length; i++) {
    const row = d[i] ?? [];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1])
        best = Math.min(best, at(i - 2, j - 2) + 1);
      row[j] = best;
    }
  }
  return at(a.length, b.length);
}

/**
 * The known key closest to `input`, or undefined when none is close enough: same letters
 * ignoring case and separators (`system_id` → `systemId`), else at most one edit per three
 * characters (`prot` → `port`, `enquireLinkIntervalMS` → `enquireLinkIntervalMs`).
 */
export function suggestKey(input: string, known: readonly string[]): string | undefined {
  const wanted = normalise(input);
  const sameLetters = known.find((key) => normalise(key) === wanted);
  if (sameLetters !== undefined) return sameLetters;
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const key of known) {
    const distance = editDistance(wanted, normalise(key));
    const allowed = Math.max(1, Math.floor(key.length / 3));
    if (distance <= allowed && distance < bestDistance) {
      best = key;
      bestDistance = distance;
    }
  }
  return best;
}
