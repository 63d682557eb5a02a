/**
 * A small typed view of the untyped npm package `autocannon` 9 (the HTTP load generator), for the
 * HTTP benchmark only. Only what we use is declared. Facts from node_modules/autocannon/lib/
 * {init,run,aggregateResult}.js: called without a callback it returns an EventEmitter that is also
 * a thenable of the result; 'response' fires once per answer with the response time in ms
 * (float, from process.hrtime); the result's latency histogram keeps whole milliseconds of 2xx
 * answers only.
 */
declare module 'autocannon' {
  import type { EventEmitter } from 'node:events';

  namespace autocannon {
    interface Options {
      url: string;
      connections?: number;
      /** Seconds. */
      duration?: number;
      method?: string;
      headers?: Record<string, string>;
      body?: string;
      pipelining?: number;
      /** Requests per second across all connections (autocannon lowers connections to it). */
      overallRate?: number;
    }

    interface Histogram {
      average: number;
      mean: number;
      stddev: number;
      min: number;
      max: number;
      total: number;
      p50: number;
      p99: number;
    }

    interface Result {
      requests: Histogram;
      latency: Histogram;
      /** Seconds, to 10 ms. */
      duration: number;
      errors: number;
      timeouts: number;
      non2xx: number;
      statusCodeStats: Record<string, { count: number }>;
    }

    interface Instance extends EventEmitter, PromiseLike<Result> {
      on(
        event: 'response',
        listener: (client: unknown, statusCode: number, resBytes: number, responseTimeMs: number) => void,
      ): this;
      on(event: string, listener: (...args: unknown[]) => void): this;
    }
  }

  function autocannon(options: autocannon.Options): autocannon.Instance;
  export = autocannon;
}
