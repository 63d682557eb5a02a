/** "Did you mean" for unknown config keys: catches case, snake_case and small typos. */

const normalise = (key: string): string => key.toLowerCase().replace(/[-_\s]/g, '');

/** Edit distance with substitutions, insertions and deletions (two-row Levenshtein). */
export function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
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
