/**
 * Polls an async check until it returns something other than undefined or false, for real-time
 * tests of whole processes: a wait with a generous limit, never an upper bound asserted. A check
 * that throws counts as not yet (its last error is in the timeout's message).
 */
export async function eventually<T>(
  check: () => Promise<T | undefined | false>,
  what: string,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${last})`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
