// One autocannon run, reduced to what the HTTP benchmark prints. Latencies are taken from
// autocannon's 'response' event (float milliseconds from process.hrtime) rather than its result
// histogram, which keeps whole milliseconds only: on loopback most answers take less than one.
import autocannon from 'autocannon';

export interface LoadOptions {
  url: string;
  connections: number;
  durationS: number;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: string;
  /** Requests per second across all connections; unset = as fast as answers come. */
  overallRate?: number;
}

export interface LoadResult {
  /** Answers received (any status). */
  requests: number;
  durationS: number;
  perSecond: number;
  /** Answers by HTTP status. */
  statuses: Record<string, number>;
  /** Connection errors and timeouts, which autocannon counts apart from statuses. */
  errors: number;
  timeouts: number;
  /** Of every answer, microseconds. */
  p50Us: number;
  p99Us: number;
  /** Of the 2xx answers only (NaN when there were none), microseconds. */
  p50Us2xx: number;
  p99Us2xx: number;
  /** CPU time this process (the load generator) used during the run, in ms. */
  loadCpuMs: number;
}

class Samples {
  private values = new Float64Array(1 << 16);
  length = 0;

  push(value: number): void {
    if (this.length === this.values.length) {
      const bigger = new Float64Array(this.values.length * 2);
      bigger.set(this.values);
      this.values = bigger;
    }
    this.values[this.length++] = value;
  }

  /** The p-quantile (0..1) by nearest rank; NaN when empty. Sorts in place. */
  percentiles(...ps: number[]): number[] {
    const sorted = this.values.subarray(0, this.length).sort();
    return ps.map((p) =>
      sorted.length === 0 ? Number.NaN : sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!,
    );
  }
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const all = new Samples();
  const ok = new Samples();
  const cpuBase = process.cpuUsage();
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.durationS,
    method: options.method ?? 'GET',
    ...(options.headers ? { headers: options.headers } : {}),
    ...(options.body !== undefined ? { body: options.body } : {}),
    ...(options.overallRate ? { overallRate: options.overallRate } : {}),
  });
  instance.on('response', (_client, statusCode, _bytes, responseTimeMs) => {
    const us = responseTimeMs * 1_000;
    all.push(us);
    if (statusCode >= 200 && statusCode < 300) ok.push(us);
  });
  const result = await instance;
  const cpu = process.cpuUsage(cpuBase);
  const statuses: Record<string, number> = {};
  let requests = 0;
  for (const [status, { count }] of Object.entries(result.statusCodeStats)) {
    statuses[status] = count;
    requests += count;
  }
  const [p50Us, p99Us] = all.percentiles(0.5, 0.99) as [number, number];
  const [p50Us2xx, p99Us2xx] = ok.percentiles(0.5, 0.99) as [number, number];
  return {
    requests,
    durationS: result.duration,
    perSecond: requests / result.duration,
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    p50Us,
    p99Us,
    p50Us2xx,
    p99Us2xx,
    loadCpuMs: (cpu.user + cpu.system) / 1_000,
  };
}
