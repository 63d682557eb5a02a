// What the HTTP benchmark (index.ts) and its server processes (server-child.ts) share.

export type ServerKind = 'ours' | 'bare';

/** The binds of `ours`. Each binds with its id as system_id, so the simulator's sessions tell them apart. */
export const BENCH_BINDS = {
  /** Serves the health route; keepalive as shipped (every 30 s). */
  health: 'main',
  /** minProbeIntervalMs 0: only the coalescing of concurrent probes limits the PDUs sent. */
  coalesced: 'coalesced',
  /** The default minProbeIntervalMs (1000 ms): a second manual probe within it is refused with 429. */
  limited: 'limited',
} as const;

export type ToChild =
  /** Answered with the CPU time (user + system) the process has used since it started. */
  | { cmd: 'cpu-read' }
  /** Answered with the enquire_link PDUs the simulator received from that system_id's live sessions. */
  | { cmd: 'enquire-links'; systemId: string }
  | { cmd: 'exit' };

export type FromChild =
  | { ready: { port: number } }
  | { failed: string }
  | { cpuMs: number }
  | { enquireLinks: number; sessions: number };
