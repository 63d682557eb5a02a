/**
 * The reverse_parts case (cases.ts): answers to the parts of one concatenated message are held
 * until every part arrived, then written last part first. A set still incomplete after its
 * timeout is answered as it is, reversed. One per session, bounded in sets; its timers belong to
 * the session and go with it.
 */
import type { TimerSet, TimerSetHandle } from './timer-set.js';

/** Concatenated messages one session may have held at once; answers of further sets are not held. */
export const MAX_HELD_SETS = 256;

interface HeldSet {
  total: number;
  answers: { seq: number; buf: Buffer }[];
  timer: TimerSetHandle;
}

export class PartHolder {
  private readonly sets = new Map<string, HeldSet>();

  constructor(
    private readonly timers: TimerSet,
    private readonly write: (buf: Buffer) => void,
    private readonly maxSets = MAX_HELD_SETS,
  ) {}

  /** Sets being held now. */
  get size(): number {
    return this.sets.size;
  }

  /** Holds the answer to part `seq` of `total` of set `key`; false when it cannot (too many sets). */
  hold(key: string, total: number, seq: number, buf: Buffer, timeoutMs: number): boolean {
    let set = this.sets.get(key);
    if (set === undefined) {
      if (this.sets.size >= this.maxSets) return false;
      set = { total, answers: [], timer: this.timers.set(() => this.release(key), timeoutMs) };
      this.sets.set(key, set);
    }
    set.answers.push({ seq, buf });
    if (set.answers.length >= set.total) this.release(key);
    return true;
  }

  /** Forgets everything held (the session closed). */
  clear(): void {
    for (const set of this.sets.values()) set.timer.clear();
    this.sets.clear();
  }

  private release(key: string): void {
    const set = this.sets.get(key);
    if (set === undefined) return;
    this.sets.delete(key);
    set.timer.clear();
    set.answers.sort((a, b) => b.seq - a.seq);
    for (const a of set.answers) this.write(a.buf);
  }
}
