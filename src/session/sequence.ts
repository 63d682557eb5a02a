/** sequence_number allocation: 1..0x7FFFFFFF, wrapping to 1 (reference §1.3). */
import { MAX_SEQUENCE_NUMBER } from '../protocol/constants.js';

export class SequenceGenerator {
  private last: number;

  constructor(start = 0) {
    this.last = start;
  }

  /** The next number, skipping any for which `inUse` is true (never reuse one still outstanding). */
  next(inUse?: (seq: number) => boolean): number {
    do {
      this.last = this.last >= MAX_SEQUENCE_NUMBER ? 1 : this.last + 1;
    } while (inUse?.(this.last));
    return this.last;
  }
}
