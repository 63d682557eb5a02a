/**
 * The SMSC side of the binds and replicas benchmarks, run as a child process (its own event loop
 * and thread) forked with `<maxConnections>` as its argument — its own entry point, so the bench
 * process never loads the simulator and its memory figures are the binds' alone:
 * the simulator (no faults, any system_id binds) on 0.0.0.0, so every 127.0.0.x address reaches
 * it, and a 16-octet echo server for the raw ping-pong. Reports its CPU time and RSS, and the
 * peaks of sessions bound at once per account (bindPeakDetail), over IPC. Its ready message
 * carries `port` too, so bench/serve-process.ts's forkSmsc can start it.
 */
import net from 'node:net';
import { type BindPeak, createSimulator } from '../../src/simulator/simulator.js';

export type ToSmsc =
  | { cmd: 'cpu-reset' }
  | { cmd: 'cpu-read' }
  | { cmd: 'delay'; ms: number }
  | { cmd: 'peaks'; reset: boolean }
  | { cmd: 'exit' };
export type FromSmsc =
  | { ready: { port: number; simPort: number; echoPort: number } }
  | { cpuMs: number; rssBytes: number; sessions: number; bound: number }
  | { peaks: Record<string, BindPeak> }
  | { done: true };

async function main(maxConnections: number): Promise<void> {
  const simulator = createSimulator({
    host: '0.0.0.0',
    port: 0,
    // 10,000 connections arrive at once: let a slow bind take its time rather than be cut off.
    sessionInitTimeoutMs: 0,
    maxConnections,
  });
  const { port: simPort } = await simulator.listen();
  const echo = net.createServer((socket) => {
    socket.setNoDelay(true);
    socket.on('data', (chunk) => socket.write(chunk));
    socket.on('error', () => {});
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  const echoPort = (echo.address() as net.AddressInfo).port;
  let base = process.cpuUsage();
  process.on('message', (msg: ToSmsc) => {
    if (msg.cmd === 'cpu-reset') base = process.cpuUsage();
    else if (msg.cmd === 'cpu-read') {
      const used = process.cpuUsage(base);
      const sessions = simulator.sessions();
      process.send?.({
        cpuMs: (used.user + used.system) / 1_000,
        rssBytes: process.memoryUsage.rss(),
        sessions: sessions.length,
        // A session has its system_id once its bind succeeded.
        bound: sessions.filter((s) => s.systemId !== null).length,
      } satisfies FromSmsc);
    } else if (msg.cmd === 'peaks') {
      process.send?.({ peaks: simulator.bindPeakDetail({ reset: msg.reset }) } satisfies FromSmsc);
    } else if (msg.cmd === 'delay') {
      // Every answer msg.ms late (0: none), through the simulator's own fault.
      simulator.clearFault();
      if (msg.ms > 0) simulator.setFault({ kind: 'delay', ms: msg.ms });
      process.send?.({ done: true } satisfies FromSmsc);
    } else {
      void simulator.close().finally(() => process.exit(0));
    }
  });
  process.send?.({ ready: { port: simPort, simPort, echoPort } } satisfies FromSmsc);
}

await main(Number(process.argv[2] ?? 20_000));
