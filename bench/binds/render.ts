/**
 * The `render` part of the binds benchmark: the cost of one /metrics exposition at N binds, in
 * this process, with no sockets and no other work competing, for each checkout given (the same
 * --serve-dir list as `serve`, so a before/after pair runs side by side). The binds are registered
 * but never started; each gets one answered keepalive probe through the registry's 'probe' event,
 * so the per-bind RTT families have a value (PDU counts stay empty, so an old exposition with a
 * per-bind smpp_pdus_total is smaller here than in `serve`). Measured: wall time and CPU of a
 * render, and the longest stretch the event loop was held: a setImmediate chain runs beside the
 * render, and the largest gap between two of its turns is the longest synchronous slice, in wall
 * time (which counts the time the process was not scheduled at all, on a busy machine) and in
 * CPU time of this process (which does not).
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export interface RenderArgs {
  serveDirs: string[];
  binds: number;
  renders: number;
}

interface Metrics {
  render(): Promise<string>;
  close(): void;
}

interface Registry {
  add(options: unknown): unknown;
  emit(event: 'probe', outcome: unknown): boolean;
}

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1_000;

function quantile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!;
}

async function renderOne(dir: string, args: RenderArgs): Promise<(string | number)[][]> {
  const from = (path: string) => import(pathToFileURL(join(dir, path)).href);
  const { BindRegistry } = (await from('src/binds/registry.ts')) as {
    BindRegistry: new () => Registry;
  };
  const { withBindDefaults } = (await from('src/binds/bind-options.ts')) as {
    withBindDefaults: (o: object) => unknown;
  };
  const { createMetrics } = (await from('src/http/plugins/metrics.ts')) as {
    createMetrics: (r: Registry, o: { defaultMetrics: boolean }) => Metrics;
  };
  const registry = new BindRegistry();
  for (let i = 0; i < args.binds; i++) {
    const id = `b${String(i).padStart(5, '0')}`;
    registry.add(withBindDefaults({ id, host: '127.0.0.1', port: 9, systemId: 'bench', password: 'bench' }));
  }
  const metrics = createMetrics(registry, { defaultMetrics: true });
  for (let i = 0; i < args.binds; i++) {
    registry.emit('probe', {
      bindId: `b${String(i).padStart(5, '0')}`,
      ok: true,
      rttMs: 0.2 + (i % 50) / 100,
      sequenceNumber: 2,
      commandStatus: 0,
      at: Date.now(),
      trigger: 'keepalive',
    });
  }
  await metrics.render(); // warm-up
  const wall: number[] = [];
  const cpu: number[] = [];
  const held: number[] = [];
  const heldCpu: number[] = [];
  let text = '';
  for (let r = 0; r < args.renders; r++) {
    let done = false;
    let last = performance.now();
    let lastCpu = process.cpuUsage();
    let maxGap = 0;
    let maxGapCpu = 0;
    const tick = (): void => {
      const now = performance.now();
      const nowCpu = process.cpuUsage();
      maxGap = Math.max(maxGap, now - last);
      maxGapCpu = Math.max(maxGapCpu, cpuMs(nowCpu) - cpuMs(lastCpu));
      last = now;
      lastCpu = nowCpu;
      if (!done) setImmediate(tick);
    };
    setImmediate(tick);
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    text = await metrics.render();
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1_000);
    done = true;
    // The slice that ended the render counts too.
    maxGap = Math.max(maxGap, performance.now() - last);
    maxGapCpu = Math.max(maxGapCpu, cpuMs(process.cpuUsage()) - cpuMs(lastCpu));
    held.push(maxGap);
    heldCpu.push(maxGapCpu);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  metrics.close();
  const series = text.split('\n').filter((l) => l !== '' && !l.startsWith('#')).length;
  const ms = (v: number) => v.toFixed(1);
  return [
    ['series / bytes', `${series} / ${(Buffer.byteLength(text) / 1024 / 1024).toFixed(1)} MB`],
    [
      `render wall, median / max of ${args.renders} (ms)`,
      `${ms(quantile(wall, 0.5))} / ${ms(Math.max(...wall))}`,
    ],
    ['render CPU, median (ms)', ms(quantile(cpu, 0.5))],
    [
      'event loop held at once, wall, median / max (ms)',
      `${ms(quantile(held, 0.5))} / ${ms(Math.max(...held))}`,
    ],
    [
      'event loop held at once, CPU, median / max (ms)',
      `${ms(quantile(heldCpu, 0.5))} / ${ms(Math.max(...heldCpu))}`,
    ],
  ];
}

export async function renderBench(args: RenderArgs): Promise<void> {
  console.log(
    `\n## render: one /metrics exposition at ${args.binds} binds, in process, ${args.renders} times\n`,
  );
  const columns: (string | number)[][][] = [];
  for (const dir of args.serveDirs) columns.push(await renderOne(dir, args));
  const header = ['measure', ...args.serveDirs];
  const rows = columns[0]!.map((row, i) => [row[0]!, ...columns.map((c) => c[i]![1]!)]);
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) =>
    `| ${r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ')} |`;
  console.log(
    [
      line(header),
      `| ${widths.map((w, i) => (i === 0 ? '-'.repeat(w) : `${'-'.repeat(w - 1)}:`)).join(' | ')} |`,
      ...rows.map((r) => line(r.map(String))),
    ].join('\n'),
  );
}
