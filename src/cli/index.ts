/**
 * smpp-bridge <command>: serve (default), simulator, probe, loadtest. Each command lives in its own module
 * here and resolves to its exit code: 0 ok, 1 runtime failure, 2 usage or config error
 * (./args.ts). Only the bin (src/cli.ts) turns that into the process exit code.
 */
import { ExitCode } from './args.js';

const USAGE = `usage: smpp-bridge <command> [options]

commands:
  serve       run the bridge service (default; without a config: demo mode with the embedded simulator)
  simulator   run the SMSC simulator
  probe       bind to an SMSC, send enquire_links and report round-trip times (like ping)
  loadtest    submit submit_sm at a steady rate over N binds and report latency and throughput

run 'smpp-bridge <command> --help' for a command's options
exit status: 0 ok, 1 runtime failure, 2 usage or config error`;

export async function runCli(argv: readonly string[]): Promise<number> {
  const [command = 'serve', ...rest] = argv;
  switch (command) {
    case 'serve':
      return (await import('./serve.js')).runServe(rest);
    case 'simulator':
      return (await import('./simulator.js')).runSimulatorCommand(rest);
    case 'probe':
      return (await import('./probe.js')).runProbeCommand(rest);
    case 'loadtest':
      return (await import('./loadtest.js')).runLoadtest(rest);
    case '-h':
    case '--help':
    case 'help':
      console.log(USAGE);
      return ExitCode.Ok;
    default:
      if (command.startsWith('-')) return (await import('./serve.js')).runServe([...argv]);
      console.error(`unknown command '${command}'\n\n${USAGE}`);
      return ExitCode.Usage;
  }
}
