#!/usr/bin/env node
/**
 * smpp-bridge <command>: serve (default), simulator, probe, loadtest. Each command lives in its own
 * module and resolves to the process exit code; usage errors exit 2.
 */
const USAGE = `usage: smpp-bridge <command> [options]

commands:
  serve       run the bridge service (default; without a config: demo mode with the embedded simulator)
  simulator   run the SMSC simulator
  probe       bind to an SMSC, send enquire_links and report round-trip times (like ping)
  loadtest    submit submit_sm at a steady rate over N binds and report latency and throughput

run 'smpp-bridge <command> --help' for a command's options`;

async function main(argv: string[]): Promise<number> {
  const [command = 'serve', ...rest] = argv;
  switch (command) {
    case 'serve':
      return (await import('./main.js')).runServe(rest);
    case 'simulator':
      return (await import('./simulator/cli.js')).runSimulatorCommand(rest);
    case 'probe':
      return (await import('./binds/probe-cli.js')).runProbeCommand(rest);
    case 'loadtest':
      return (await import('./cli/loadtest.js')).runLoadtest(rest);
    case '-h':
    case '--help':
    case 'help':
      console.log(USAGE);
      return 0;
    default:
      if (command.startsWith('-')) return (await import('./main.js')).runServe(argv);
      console.error(`unknown command '${command}'\n\n${USAGE}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    // Commands that keep running (serve, simulator) resolve only when they are done.
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? (error.stack ?? error.message) : String(error));
    process.exitCode = 1;
  },
);
