/**
 * The SMSC of the messages benchmark, in a process of its own (forked by index.ts) so the service
 * under test never shares its event loop: the simulator with no faults on 127.0.0.1. Reports over
 * IPC the submit_sm it has answered and its CPU time.
 */
import { createSimulator } from '../../src/simulator/simulator.js';

export type ToSmsc = { cmd: 'read' } | { cmd: 'exit' };
export type FromSmsc =
  | { ready: { port: number } }
  | { submitsAnswered: number; submitsAccepted: number; cpuMs: number };

async function main(): Promise<void> {
  const simulator = createSimulator({ host: '127.0.0.1', port: 0, sessionInitTimeoutMs: 0 });
  const { port } = await simulator.listen();
  process.on('message', (msg: ToSmsc) => {
    if (msg.cmd === 'read') {
      const counters = simulator.counters();
      const cpu = process.cpuUsage();
      process.send?.({
        submitsAnswered: counters.out.submit_sm_resp ?? 0,
        submitsAccepted: counters.submits,
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
