/**
 * Packet capture on the loopback interface with tshark, for the time PDUs spend on the wire:
 * `startCapture(ports)` records to a temporary pcap; `stop()` ends it and reads back, per port,
 * the capture time (µs resolution, relative to the first packet) of every SMPP PDU (command_id,
 * sequence_number, direction) and of every data segment. Null when tshark is not installed or
 * cannot capture (it needs root or the wireshark group).
 */
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface WirePdu {
  /** Seconds since the first captured packet. */
  t: number;
  srcPort: number;
  dstPort: number;
  commandId: number;
  seq: number;
}

export interface WireSegment {
  t: number;
  srcPort: number;
  dstPort: number;
  len: number;
}

export interface Capture {
  stop(): Promise<{ pdus: WirePdu[]; segments: WireSegment[] }>;
}

export function tsharkAvailable(): boolean {
  return spawnSync('tshark', ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Starts capturing TCP traffic on lo for these ports; resolves once tshark is capturing. */
export async function startCapture(ports: number[], smppPort: number): Promise<Capture | null> {
  if (!tsharkAvailable()) return null;
  const dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-capture-'));
  const file = join(dir, 'lo.pcap');
  const filter = ports.map((p) => `tcp port ${p}`).join(' or ');
  const child: ChildProcess = spawn('tshark', ['-i', 'lo', '-f', filter, '-w', file, '-q'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  const started = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 10_000);
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('Capturing on')) {
        clearTimeout(timer);
        resolve(true);
      }
    });
    child.once('exit', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
  if (!started) {
    child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
    process.stderr.write(`tshark could not capture on lo: ${stderr.trim().split('\n').at(-1) ?? ''}\n`);
    return null;
  }
  return {
    async stop() {
      // Let the last packets reach the capture file before stopping.
      await new Promise((r) => setTimeout(r, 300));
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await exited;
      try {
        return { pdus: readPdus(file, smppPort), segments: readSegments(file) };
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

function tsharkFields(file: string, args: string[]): string[][] {
  const run = spawnSync(
    'tshark',
    ['-r', file, ...args, '-T', 'fields', '-E', 'separator=/t', '-E', 'aggregator=;'],
    { encoding: 'utf8', maxBuffer: 512 * 1024 * 1024 },
  );
  if (run.status !== 0) throw new Error(`tshark -r failed: ${run.stderr}`);
  return run.stdout
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => l.split('\t'));
}

/** Every SMPP PDU on `smppPort`; several PDUs in one segment share its time. */
function readPdus(file: string, smppPort: number): WirePdu[] {
  const rows = tsharkFields(file, [
    '-d',
    `tcp.port==${smppPort},smpp`,
    '-Y',
    'smpp',
    '-e',
    'frame.time_relative',
    '-e',
    'tcp.srcport',
    '-e',
    'tcp.dstport',
    '-e',
    'smpp.command_id',
    '-e',
    'smpp.sequence_number',
  ]);
  const out: WirePdu[] = [];
  for (const [t, src, dst, ids, seqs] of rows) {
    const idList = (ids ?? '').split(';');
    const seqList = (seqs ?? '').split(';');
    for (let i = 0; i < idList.length; i++) {
      out.push({
        t: Number(t),
        srcPort: Number(src),
        dstPort: Number(dst),
        commandId: Number(idList[i]) >>> 0,
        seq: Number(seqList[i]),
      });
    }
  }
  return out;
}

function readSegments(file: string): WireSegment[] {
  const rows = tsharkFields(file, [
    '-Y',
    'tcp.len > 0',
    '-e',
    'frame.time_relative',
    '-e',
    'tcp.srcport',
    '-e',
    'tcp.dstport',
    '-e',
    'tcp.len',
  ]);
  return rows.map(([t, src, dst, len]) => ({
    t: Number(t),
    srcPort: Number(src),
    dstPort: Number(dst),
    len: Number(len),
  }));
}
