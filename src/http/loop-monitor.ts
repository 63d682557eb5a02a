/**
 * Event-loop delay for /livez, from perf_hooks.monitorEventLoopDelay. The histogram is read over
 * the current and the previous window (rotated every `windowMs`), so one stall shows for one to
 * two windows and then clears. Values are the delay beyond the sampling resolution, in ms.
 */
import { type IntervalHistogram, monitorEventLoopDelay } from 'node:perf_hooks';

export interface LoopDelay {
  mean: number;
  p50: number;
  p99: number;
  max: number;
}

const RESOLUTION_MS = 10;
const EMPTY: LoopDelay = { mean: 0, p50: 0, p99: 0, max: 0 };

function beyond(ns: number): number {
  const ms = ns / 1e6 - RESOLUTION_MS;
  return ms > 0 ? Math.round(ms * 1000) / 1000 : 0;
}

function read(h: IntervalHistogram): LoopDelay {
  if (h.count === 0) return EMPTY;
  return {
    mean: beyond(h.mean),
    p50: beyond(h.percentile(50)),
    p99: beyond(h.percentile(99)),
    max: beyond(h.max),
  };
}

/** Reading the histogram costs more than a probe answer; readings are reused this long. */
const CACHE_MS = 250;

export class LoopMonitor {
  private readonly histogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  private previous: LoopDelay = EMPTY;
  private readonly timer: NodeJS.Timeout;
  private cached: LoopDelay | null = null;
  private cachedAt = 0;

  constructor(windowMs = 10_000) {
    this.histogram.enable();
    this.timer = setInterval(() => this.rotate(), windowMs);
    this.timer.unref();
  }

  private rotate(): void {
    this.previous = read(this.histogram);
    this.histogram.reset();
    this.cached = null;
  }

  /** Delay over the current and the previous window (max and p99 are the larger of the two). */
  delay(): LoopDelay {
    const at = performance.now();
    if (this.cached !== null && at - this.cachedAt < CACHE_MS) return this.cached;
    this.cached = this.measure();
    this.cachedAt = at;
    return this.cached;
  }

  private measure(): LoopDelay {
    const now = read(this.histogram);
    const prev = this.previous;
    return {
      mean: this.histogram.count > 0 ? now.mean : prev.mean,
      p50: this.histogram.count > 0 ? now.p50 : prev.p50,
      p99: Math.max(now.p99, prev.p99),
      max: Math.max(now.max, prev.max),
    };
  }

  close(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }
}
