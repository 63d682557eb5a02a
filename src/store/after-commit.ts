/**
 * Work that must wait for a transaction's commit: a tx gathers it (StoreTx.afterCommit), and the
 * store runs it once the unit's commit returned (durably, as the store answers its callers), never
 * when the unit or its commit failed.
 */
export class AfterCommitHooks {
  private hooks: (() => void)[] = [];

  add(fn: () => void): void {
    this.hooks.push(fn);
  }

  take(): (() => void)[] {
    const hooks = this.hooks;
    this.hooks = [];
    return hooks;
  }
}

/**
 * Runs `fn` through `run` (the store's unit of work) and the hooks its tx gathered after the unit
 * committed. A hook that throws is a bug of its own; it does not turn a committed unit into a failure.
 */
export function runWithAfterCommit<Tx extends { readonly afterCommitHooks: AfterCommitHooks }, T>(
  run: (unit: (tx: Tx) => Promise<T>) => Promise<T>,
  fn: (tx: Tx) => Promise<T>,
): Promise<T> {
  let hooks: (() => void)[] = [];
  return run(async (tx) => {
    const value = await fn(tx);
    hooks = tx.afterCommitHooks.take();
    return value;
  }).then((value) => {
    for (const hook of hooks) {
      try {
        hook();
      } catch {
        // Nothing to undo: the commit stands.
      }
    }
    return value;
  });
}
