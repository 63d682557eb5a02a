/**
 * The SMSC of the inbound benchmark, in a process of its own (forked by index.ts): the simulator
 * on 127.0.0.1, flooding MO deliver_sm through its burst API when told. Reports over IPC the
 * deliver_sm answered ESME_ROK (the bursts' `delivered`) and its CPU time. Its one argument: the
 * window (deliver_sm unanswered at once per connection).
 */
import { createSimulator } from '../../src/simulator/simulator.js';

export type ToSmsc =
  | { cmd: 'burst'; systemId: string; count: number; ratePerSecond: number }
  | { cmd: 'read' }
  | { cmd: 'exit' };
export type FromSmsc =
  | { ready: { port: number } }
  | { delivered: number; failed: number; started: number; cpuMs: number };

async function main(): Promise<void> {
  const windowSize = Number(process.argv[2] ?? 10);
  const simulator = createSimulator({ host: '127.0.0.1', port: 0, sessionInitTimeoutMs: 0, windowSize });
  const { port } = await simulator.listen();
  process.on('message', (msg: ToSmsc) => {
    if (msg.cmd === 'burst') {
      simulator.startMoBurst({
        from: '447700900123',
        to: '40404',
        text: 'Hello from the inbound bench {n}', // {n}: identical MO would be redeliveries (dedup)
        systemId: msg.systemId,
        count: msg.count,
        ratePerSecond: msg.ratePerSecond,
      });
    } else if (msg.cmd === 'read') {
      const bursts = simulator.moBursts();
      const cpu = process.cpuUsage();
      process.send?.({
        delivered: bursts.reduce((n, b) => n + b.delivered, 0),
        failed: bursts.reduce((n, b) => n + b.failed, 0),
        started: bursts.reduce((n, b) => n + b.started, 0),
        cpuMs: (cpu.user + cpu.system) / 1_000,
      } satisfies FromSmsc);
    } else if (msg.cmd === 'exit') {
      void simulator.close().then(() => process.exit(0));
    }
  });
  process.send?.({ ready: { port } } satisfies FromSmsc);
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
