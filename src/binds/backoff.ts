/**
 * Reconnect delays: exponential backoff with full jitter (a random delay between 0 and the
 * exponential bound), capped. Bind refusals that retrying cannot fix soon (wrong password,
 * unknown system_id, already bound) wait at the cap: slowly retried, never in a storm.
 */
export interface BackoffPolicy {
  initialDelayMs: number;
  maxDelayMs: number;
}

/** The delay before attempt number `attempt` (0 for the first retry). `random` returns [0, 1). */
export function backoffDelayMs(
  policy: BackoffPolicy,
  attempt: number,
  random: () => number = Math.random,
): number {
  const bound = Math.min(policy.maxDelayMs, policy.initialDelayMs * 2 ** Math.min(attempt, 30));
  return Math.floor(random() * bound);
}

/** The delay after a refusal that needs an operator or the SMSC to change something: near the cap. */
export function slowRetryDelayMs(policy: BackoffPolicy, random: () => number = Math.random): number {
  // 90–100 % of the cap: spread so many binds refused at once do not come back in step.
  return Math.floor(policy.maxDelayMs * (0.9 + 0.1 * random()));
}
