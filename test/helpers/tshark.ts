/**
 * Runs tshark (Debian package `tshark`, installed by .ci/run) on a pcap file and returns one
 * row of fields per frame. Tests that need it skip with a loud reason when it is missing.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const hasTshark = spawnSync('tshark', ['--version'], { encoding: 'utf8' }).status === 0;

if (!hasTshark) {
  console.warn(
    'tshark is not installed: the pcap tests that decode with tshark are SKIPPED (apt-get install tshark; .ci/run installs it)',
  );
}

/** PI_WARN in Wireshark's expert info: anything at or above it is a problem in our file. */
export const EXPERT_WARN = 0x00600000;

/**
 * `tshark -r <pcap> -d tcp.port==<port>,smpp -T fields -e …` with TCP and IP checksums checked;
 * rows of the given fields (multiple values of one field joined with ',').
 */
export function tsharkFields(pcap: Buffer, port: number, fields: string[]): string[][] {
  const dir = mkdtempSync(join(tmpdir(), 'trace-pcap-'));
  try {
    const file = join(dir, 'trace.pcap');
    writeFileSync(file, pcap);
    const args = ['-r', file, '-n', '-d', `tcp.port==${port},smpp`, '-o', 'tcp.check_checksum:TRUE'];
    args.push('-o', 'ip.check_checksum:TRUE', '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a');
    for (const f of fields) args.push('-e', f);
    const run = spawnSync('tshark', args, { encoding: 'utf8', timeout: 60_000 });
    if (run.status !== 0) throw new Error(`tshark failed (${run.status}): ${run.stderr}`);
    return run.stdout
      .split('\n')
      .filter((line) => line !== '')
      .map((line) => line.split('\t'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
