/**
 * The simulator's YAML config: the annotated example loads and means what it says, problems are
 * reported all at once with key paths and lines, status names become codes, ${VAR} works, TLS
 * files are read relative to the file, and a simulator built from it behaves accordingly.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/config-error.js';
import { parseConfigText } from '../../src/config/load-config.js';
import { CommandStatus } from '../../src/protocol/command-status.js';
import { SmppBindError } from '../../src/session/errors.js';
import { loadSimulatorConfig, parseSimulatorConfig } from '../../src/simulator/sim-config.js';
import { connectEsme, type StartedSimulator, startSimulator } from '../helpers/simulator.js';

let started: StartedSimulator | undefined;
const dirs: string[] = [];

afterEach(async () => {
  await started?.close();
  started = undefined;
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function issuesOf(
  text: string,
  env: Record<string, string> = {},
): { path: string; line?: number; message: string }[] {
  try {
    parseSimulatorConfig(text, { env });
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return [...(error as ConfigError).issues];
  }
  throw new Error('the config was accepted');
}

describe('simulator config file', () => {
  it('loads the annotated example', () => {
    const config = loadSimulatorConfig('config/simulator.example.yaml', {});
    expect(config.source).toMatch(/config[/\\]simulator\.example\.yaml$/);
    expect(config.logLevel).toBe('info');
    expect(config.control).toEqual({ enabled: true, host: '127.0.0.1', port: 2776 });
    expect(config.simulator).toMatchObject({
      host: '0.0.0.0',
      port: 2775,
      systemId: 'SMPPSIM',
      enquireLinkIntervalMs: 0,
      sessionInitTimeoutMs: 10_000,
      messageIdFormat: 'hex',
      accounts: [
        { systemId: 'demo', password: 'demo' },
        {
          systemId: 'shop',
          password: 's3cret',
          bindTypes: ['transmitter', 'receiver'],
          maxBinds: 2,
          overLimitStatus: CommandStatus.ESME_RALYBND,
        },
      ],
      receipts: { delayMs: 100, finalState: 'DELIVRD', retries: 3 },
      faults: [
        { fault: { kind: 'throttle', maxPerSecond: 50 }, scope: { systemId: 'shop' } },
        {
          fault: { kind: 'error_status', status: CommandStatus.ESME_RINVDSTADR },
          scope: { destination: '447700900999' },
        },
      ],
    });
    expect(config.simulator.tls).toBeUndefined();
    expect(config.simulator.accounts?.[1]?.cases).toEqual([{ kind: 'receipt_other_bind' }]);
    expect(config.simulator.cases?.map((c) => c.case.kind)).toEqual(['reverse_parts', 'receipts']);
    expect(config.simulator.maxDeliveryRecords).toBe(10_000);
  });

  it('takes variables referenced in string values from the environment', () => {
    const config = loadSimulatorConfig('config/simulator.example.yaml', { SHOP_PASSWORD: 'fromenv' });
    expect(config.simulator.accounts?.[1]?.password).toBe('fromenv');
    // biome-ignore lint/suspicious/noTemplateCurlyInString: a literal reference in YAML text.
    expect(issuesOf('accounts:\n  - systemId: a\n    password: ${MISSING}\n')[0]).toMatchObject({
      path: 'accounts[0].password',
      line: 3,
    });
  });

  it('keeps keys it does not set absent, so flags and defaults fill them', () => {
    expect(parseSimulatorConfig('port: 0\n')).toEqual({ simulator: { port: 0 }, control: {} });
    expect(parseSimulatorConfig('')).toEqual({ simulator: {}, control: {} });
  });

  it('reports every problem with its key path and line', () => {
    const text = [
      'port: 99999', // 1
      'prot: 1', // 2
      'accounts:', // 3
      '  - systemId: a', // 4
      '    password: way-too-long', // 5
      'receipts:', // 6
      '  finalState: GONE', // 7
      'faults:', // 8
      '  - kind: delay', // 9
      '    ms: -1', // 10
      '  - kind: refuse_bind', // 11
      '    status: ESME_RNOPE', // 12
      '  - kind: blackhole', // 13
      '    scope: { planet: mars }', // 14
      '  - teleport', // 15
    ].join('\n');
    const issues = issuesOf(text);
    expect(issues.map((i) => [i.path, i.line])).toEqual([
      ['port', 1],
      ['prot', 2],
      ['accounts[0].password', 5],
      ['receipts.finalState', 7],
      ['faults[0].ms', 10],
      ['faults[1].status', 12],
      ['faults[2].scope.planet', 14],
      ['faults[3]', 15],
    ]);
    expect(issues.find((i) => i.path === 'prot')?.message).toMatch(/did you mean "port"/);
    expect(issues.find((i) => i.path === 'faults[1].status')?.message).toBe(
      'unknown command_status name "ESME_RNOPE"',
    );
  });

  it('reports YAML syntax errors by line', () => {
    const [issue] = issuesOf('port: [2775\n');
    expect(issue?.message).toMatch(/YAML syntax error at line \d/);
  });

  it('reads TLS files relative to the config file, and names the one it cannot read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sim-config-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'key.pem'), '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n');
    writeFileSync(join(dir, 'cert.pem'), '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n');
    writeFileSync(join(dir, 'ok.yaml'), 'tls:\n  key: key.pem\n  cert: cert.pem\n');
    expect(loadSimulatorConfig(join(dir, 'ok.yaml'), {}).simulator.tls).toEqual({
      key: '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n',
      cert: '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n',
    });
    writeFileSync(join(dir, 'bad.yaml'), 'tls:\n  key: key.pem\n  cert: missing.pem\n');
    expect(() => loadSimulatorConfig(join(dir, 'bad.yaml'), {})).toThrow(
      /tls\.cert \(line 3\): cannot read "missing\.pem": ENOENT/,
    );
    expect(() => loadSimulatorConfig(join(dir, 'nope.yaml'), {})).toThrow(
      /cannot read the config file .*nope\.yaml: ENOENT/,
    );
  });

  it('builds a simulator that applies its accounts and faults', async () => {
    const config = parseSimulatorConfig(
      [
        'accounts:',
        '  - { systemId: ok, password: pw }',
        '  - { systemId: blocked, password: pw }',
        'faults:',
        '  - { kind: refuse_bind, status: ESME_RBINDFAIL, scope: { systemId: blocked } }',
      ].join('\n'),
    );
    started = await startSimulator({ ...config.simulator, host: '127.0.0.1', port: 0 });
    const ok = await connectEsme(started.port, { systemId: 'ok', password: 'pw' });
    expect(ok.bound).toBe(true);
    ok.destroy();
    const refused = await connectEsme(started.port, { systemId: 'blocked', password: 'pw' }).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(SmppBindError);
    expect((refused as SmppBindError).commandStatus).toBe(CommandStatus.ESME_RBINDFAIL);
  });
});

describe('cases in the simulator file', () => {
  it("takes cases with scopes and an account's own cases, status names as codes", () => {
    const config = parseSimulatorConfig(
      [
        'accounts:',
        '  - systemId: shop',
        '    password: pw',
        '    cases:',
        '      - { kind: receipt_other_bind }',
        '      - { kind: throttle, tps: 5, status: ESME_RMSGQFUL, destinationPrefix: "44" }',
        'maxDeliveryRecords: 500',
        'cases:',
        '  - kind: reverse_parts',
        '    holdTimeoutMs: 2000',
        '    scope: { destinationPrefix: "+4477" }',
        '  - { kind: no_response, share: 0.1 }',
      ].join('\n'),
      { env: {} },
    );
    expect(config.simulator.accounts?.[0]?.cases).toEqual([
      { kind: 'receipt_other_bind' },
      { kind: 'throttle', tps: 5, status: CommandStatus.ESME_RMSGQFUL, destinationPrefix: '44' },
    ]);
    expect(config.simulator.cases).toEqual([
      { case: { kind: 'reverse_parts', holdTimeoutMs: 2000 }, scope: { destinationPrefix: '+4477' } },
      { case: { kind: 'no_response', share: 0.1 }, scope: {} },
    ]);
    expect(config.simulator.maxDeliveryRecords).toBe(500);
  });

  it('reports bad cases with their paths and lines', () => {
    const issues = issuesOf(
      [
        'cases:',
        '  - { kind: throttle, burstCount: 3 }',
        '  - { kind: receipts, stats: [LOST] }',
        'accounts:',
        '  - systemId: shop',
        '    password: pw',
        '    cases: [{ kind: id_format, submit: hex }]',
      ].join('\n'),
    );
    expect(issues.map((i) => [i.path, i.line])).toEqual([
      ['cases[0].periodMs', 2],
      ['cases[1].stats[0]', 3],
      ['accounts[0].cases[0].receipt', 7],
    ]);
  });
});

describe('one account schema for `simulator` and `serve`', () => {
  const ACCOUNTS = `
  - systemId: shop
    password: s3cret
    bindTypes: [transmitter, receiver]
    maxBinds: 2
    overLimitStatus: ESME_RBINDFAIL
`;

  function serviceIssues(text: string): { path: string; message: string }[] {
    try {
      parseConfigText(text, { env: {}, baseDir: process.cwd() });
    } catch (error) {
      expect(error).toBeInstanceOf(ConfigError);
      return [...(error as ConfigError).issues];
    }
    throw new Error('the config was accepted');
  }

  it('the service config takes every key of a simulator account, with status names as codes', () => {
    const standalone = parseSimulatorConfig(`accounts:${ACCOUNTS}`, { env: {} }).simulator.accounts;
    const embedded = parseConfigText(
      `simulator:\n  enabled: true\n  accounts:${ACCOUNTS.replace(/\n/g, '\n  ')}`,
      {
        env: {},
        baseDir: process.cwd(),
      },
    ).simulator.accounts;
    expect(embedded).toEqual([
      {
        systemId: 'shop',
        password: 's3cret',
        bindTypes: ['transmitter', 'receiver'],
        maxBinds: 2,
        overLimitStatus: CommandStatus.ESME_RBINDFAIL,
      },
    ]);
    expect(embedded).toEqual(standalone);
  });

  it("the service config takes an account's cases and reports a bad one with its path", () => {
    const embedded = parseConfigText(
      'simulator:\n  enabled: true\n  accounts:\n    - { systemId: a, password: x, cases: [{ kind: throttle, tps: 1, status: ESME_RTHROTTLED }] }',
      { env: {}, baseDir: process.cwd() },
    ).simulator.accounts;
    expect(embedded?.[0]?.cases).toEqual([
      { kind: 'throttle', tps: 1, status: CommandStatus.ESME_RTHROTTLED },
    ]);
    const issues = serviceIssues(
      'simulator:\n  enabled: true\n  accounts:\n    - { systemId: a, password: x, cases: [{ kind: nope }] }',
    );
    expect(issues.map((i) => i.path)).toEqual(['simulator.accounts[0].cases[0].kind']);
  });

  it('the service config rejects what the simulator rejects, with the key path', () => {
    const issues = serviceIssues(
      [
        'simulator:',
        '  enabled: true',
        '  accounts:',
        '    - { systemId: a, password: x, bindTypes: [sender] }',
        '    - { systemId: b, password: waytoolongpassword }',
        '    - { systemId: c, password: x, overLimitStatus: ESME_RNOSUCH }',
        '    - { systemId: c, password: y }',
      ].join('\n'),
    );
    const paths = issues.map((i) => i.path);
    expect(paths).toContain('simulator.accounts[0].bindTypes[0]');
    expect(paths).toContain('simulator.accounts[1].password');
    // The schema failed, so the rules beyond it wait for a fixed file; alone they are reported too.
    const rules = serviceIssues(
      [
        'simulator:',
        '  enabled: true',
        '  accounts:',
        '    - { systemId: c, password: x, overLimitStatus: ESME_RNOSUCH }',
        '    - { systemId: c, password: y }',
      ].join('\n'),
    );
    expect(rules.map((i) => [i.path, i.message])).toEqual([
      ['simulator.accounts[0].overLimitStatus', expect.stringContaining('ESME_RNOSUCH')],
      ['simulator.accounts[1].systemId', expect.stringContaining('duplicate systemId')],
    ]);
  });
});
