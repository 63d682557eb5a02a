// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these tests write ${VAR} references into config text on purpose.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { DEFAULT_BIND_TUNING } from '../../src/binds/bind-options.js';
import { ConfigError } from '../../src/config/config-error.js';
import { configPathFrom, loadConfig, parseConfigText } from '../../src/config/load-config.js';
import type { ServiceConfig } from '../../src/config/service-config.js';
import { ErrorCode, SmppError } from '../../src/errors.js';

const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

const MINIMAL = `
http: { port: 8080 }
defaults: { enquireLinkIntervalMs: 30000, enquireLinkTimeoutMs: 10000 }
binds:
  - id: operator-a
    host: smpp.operator-a.example
    port: 2775
    systemId: acme
    password: \${OPERATOR_A_PASSWORD}
    bindType: transceiver
`;

const parse = (text: string, env: Record<string, string> = {}, baseDir = repoRoot): ServiceConfig =>
  parseConfigText(text, { env, baseDir });

/** The ConfigError `fn` throws (fails the test if it returns or throws anything else). */
function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError, but the config loaded');
}

const issueAt = (error: ConfigError, path: string) => error.issues.find((issue) => issue.path === path);

/** A bind with every required key, for tests that vary one thing. */
const bind = (extra = '', id = 'a') =>
  `  - id: ${id}\n    host: smsc.example\n    port: 2775\n    systemId: acme\n    password: secret\n${extra}`;

describe('the smallest useful file', () => {
  it('loads with every default resolved and the password taken from the environment', () => {
    const config = parse(MINIMAL, { OPERATOR_A_PASSWORD: 's3cret' });
    expect(config.demo).toBe(false);
    expect(config.http).toEqual({
      host: '0.0.0.0',
      port: 8080,
      bodyLimitBytes: 65536,
      requestTimeoutMs: 30_000,
      headersTimeoutMs: 10_000,
      keepAliveTimeoutMs: 5_000,
      maxConnections: 1_024,
    });
    expect(config.shutdown).toEqual({ unbindTimeoutMs: 5_000, httpDrainTimeoutMs: 1_000 });
    expect(config.log.level).toBe('info');
    expect(config.auth).toEqual({ tokens: [], protectReads: false });
    expect(config.readiness).toEqual({ policy: 'all', minHealthy: 1 });
    expect(config.shutdown.unbindTimeoutMs).toBe(5000);
    expect(config.metrics.enabled).toBe(true);
    expect(config.metrics.perBindHistograms).toBe(false);
    expect(config.simulator.enabled).toBe(false);
    expect(config.binds).toHaveLength(1);
    expect(config.binds[0]).toEqual({
      ...DEFAULT_BIND_TUNING,
      id: 'operator-a',
      host: 'smpp.operator-a.example',
      port: 2775,
      systemId: 'acme',
      password: 's3cret',
      bindType: 'transceiver',
      systemType: '',
      interfaceVersion: 0x34,
      addrTon: 0,
      addrNpi: 0,
      addressRange: '',
      tls: { enabled: false, rejectUnauthorized: true },
    });
  });

  it('accepts an explicitly empty bind list (not demo mode)', () => {
    expect(parse('binds: []').binds).toEqual([]);
    expect(parse('binds: []').demo).toBe(false);
  });

  it('rejects an empty file, one with only comments and one with only ---, saying it is empty', () => {
    for (const text of ['', '\n\n', '# nothing here\n# yet\n', '---\n', '---\n# only a comment\n']) {
      const error = configError(() => parse(text));
      expect(error.issues).toHaveLength(1);
      expect(error.message).toMatch(/the config file is empty/);
    }
  });

  it('reads the HTTP timeouts and the connection cap, and refuses a headers timeout above the request timeout', () => {
    const config = parse(
      'http: { requestTimeoutMs: 2000, headersTimeoutMs: 500, keepAliveTimeoutMs: 0, maxConnections: 10 }\nshutdown: { httpDrainTimeoutMs: 250 }',
    );
    expect(config.http).toMatchObject({
      requestTimeoutMs: 2000,
      headersTimeoutMs: 500,
      keepAliveTimeoutMs: 0,
      maxConnections: 10,
    });
    expect(config.shutdown).toEqual({ unbindTimeoutMs: 5_000, httpDrainTimeoutMs: 250 });
    const error = configError(() => parse('http: { requestTimeoutMs: 1000, headersTimeoutMs: 2000 }'));
    expect(issueAt(error, 'http.headersTimeoutMs')?.message).toMatch(
      /must not exceed http.requestTimeoutMs \(1000\)/,
    );
    expect(
      issueAt(
        configError(() => parse('http: { maxConnections: 0 }')),
        'http.maxConnections',
      ),
    ).toBeDefined();
  });

  it('reads the lease timers and owner, and refuses a TTL not above twice the renew interval', () => {
    expect(parse('http: { port: 8080 }').leases).toEqual({ ttlMs: 10_000, renewIntervalMs: 2_000 });
    expect(parse('leases: { ttlMs: 6000, renewIntervalMs: 1000, owner: pod-a }').leases).toEqual({
      ttlMs: 6_000,
      renewIntervalMs: 1_000,
      owner: 'pod-a',
    });
    const error = configError(() => parse('leases: { ttlMs: 4000 }'));
    expect(issueAt(error, 'leases.ttlMs')?.message).toMatch(
      /must be more than twice leases.renewIntervalMs \(2000\)/,
    );
    expect(
      issueAt(
        configError(() => parse('leases: { renewIntervalMs: 5000 }')),
        'leases.renewIntervalMs',
      ),
    ).toBeDefined();
    expect(
      issueAt(
        configError(() => parse('leases: { ttl: 5000 }')),
        'leases.ttl',
      ),
    ).toBeDefined();
  });

  it('treats `key:` with no value as not set', () => {
    const config = parse(`http:\n  port:\nauth:\nbinds:\n${bind('    systemType: ~\n')}`);
    expect(config.http.port).toBe(8080);
    expect(config.auth.tokens).toEqual([]);
    expect(config.binds[0]?.systemType).toBe('');
  });
});

describe('defaults inheritance', () => {
  const text = `
defaults:
  enquireLinkIntervalMs: 15000
  windowSize: 50
  reconnect: { maxDelayMs: 30000 }
binds:
${bind('    windowSize: 5\n    reconnect: { initialDelayMs: 500 }\n', 'own')}
${bind('', 'inherits')}
`;

  it('gives a bind its own value, else the value of defaults, else the built-in default', () => {
    const [own, inherits] = parse(text).binds;
    expect(own?.windowSize).toBe(5);
    expect(own?.enquireLinkIntervalMs).toBe(15000);
    expect(own?.responseTimeoutMs).toBe(DEFAULT_BIND_TUNING.responseTimeoutMs);
    expect(inherits?.windowSize).toBe(50);
    expect(inherits?.enquireLinkIntervalMs).toBe(15000);
  });

  it('merges reconnect key by key across bind, defaults and built-ins', () => {
    const [own, inherits] = parse(text).binds;
    expect(own?.reconnect).toEqual({ initialDelayMs: 500, maxDelayMs: 30000, stableAfterMs: 60000 });
    expect(inherits?.reconnect).toEqual({ initialDelayMs: 1000, maxDelayMs: 30000, stableAfterMs: 60000 });
  });

  it('exposes the resolved defaults', () => {
    const { defaults } = parse(text);
    expect(defaults.windowSize).toBe(50);
    expect(defaults.maxMissedProbes).toBe(DEFAULT_BIND_TUNING.maxMissedProbes);
  });
});

describe('short forms', () => {
  it.each([
    ['tx', 'transmitter'],
    ['rx', 'receiver'],
    ['trx', 'transceiver'],
    ['receiver', 'receiver'],
  ])('bindType %s means %s', (written, meant) => {
    expect(parse(`binds:\n${bind(`    bindType: ${written}\n`)}`).binds[0]?.bindType).toBe(meant);
  });

  it.each([
    ['0x34', 0x34],
    ['52', 0x34],
    ["'3.4'", 0x34],
    ['3.4', 0x34],
    ['0x50', 0x50],
    ['80', 0x50],
    ["'5.0'", 0x50],
    ['5.0', 0x50],
  ])('interfaceVersion %s is 0x%s', (written, meant) => {
    expect(parse(`binds:\n${bind(`    interfaceVersion: ${written}\n`)}`).binds[0]?.interfaceVersion).toBe(
      meant,
    );
  });

  it('rejects an interface version the bridge does not speak', () => {
    const error = configError(() => parse(`binds:\n${bind('    interfaceVersion: 0x33\n')}`));
    expect(issueAt(error, 'binds[0].interfaceVersion')?.message).toMatch(
      /0x34.*'3\.4'.*0x50.*'5\.0'.*got 51/,
    );
  });

  it('tls: true turns TLS on with certificate checks', () => {
    expect(parse(`binds:\n${bind('    tls: true\n')}`).binds[0]?.tls).toEqual({
      enabled: true,
      rejectUnauthorized: true,
    });
  });
});

describe('environment interpolation', () => {
  it('substitutes ${VAR} inside values and uses ${VAR:-default} when unset or empty', () => {
    const text = `http: { host: '\${BIND_HOST:-127.0.0.1}' }\nbinds:\n${bind('    systemType: pre-${TYPE}-post\n')}`;
    expect(parse(text, { TYPE: 'x' }).binds[0]?.systemType).toBe('pre-x-post');
    expect(parse(text, { TYPE: 'x' }).http.host).toBe('127.0.0.1');
    expect(parse(text, { TYPE: 'x', BIND_HOST: '' }).http.host).toBe('127.0.0.1');
    expect(parse(text, { TYPE: 'x', BIND_HOST: '10.0.0.1' }).http.host).toBe('10.0.0.1');
  });

  it('reports a missing variable at the key that references it, with the variable name', () => {
    const error = configError(() => parse(MINIMAL, {}));
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]?.path).toBe('binds[0].password');
    expect(error.issues[0]?.line).toBe(9);
    expect(error.issues[0]?.message).toContain('OPERATOR_A_PASSWORD is not set');
  });

  it('keeps the structure of the file whatever the variable holds', () => {
    const config = parse(MINIMAL, { OPERATOR_A_PASSWORD: 'a: b #c' });
    expect(config.binds[0]?.password).toBe('a: b #c');
  });

  it('turns a whole-value reference into a number or boolean where the schema wants one', () => {
    const text = `metrics:\n  enabled: \${METRICS}\nbinds:\n${bind('    windowSize: ${WINDOW}\n')}`.replace(
      'port: 2775',
      'port: ${SMPP_PORT}',
    );
    const config = parse(text, { METRICS: 'false', WINDOW: '25', SMPP_PORT: '2776' });
    expect(config.metrics.enabled).toBe(false);
    expect(config.binds[0]?.windowSize).toBe(25);
    expect(config.binds[0]?.port).toBe(2776);
  });

  it('leaves a number-like variable a string where a string is expected', () => {
    expect(parse(MINIMAL, { OPERATOR_A_PASSWORD: '12345678' }).binds[0]?.password).toBe('12345678');
  });

  it('reports a variable that is not a number where one is needed as a type error', () => {
    const text = `binds:\n${bind()}`.replace('port: 2775', 'port: ${SMPP_PORT}');
    const error = configError(() => parse(text, { SMPP_PORT: 'twenty' }));
    expect(issueAt(error, 'binds[0].port')?.message).toBe(
      'expected a port number from 1 to 65535, got "twenty"',
    );
  });
});

describe('environment overrides', () => {
  it('HOST, PORT and LOG_LEVEL replace the file values', () => {
    const config = parse('http: { host: 0.0.0.0, port: 8080 }\nlog: { level: warn }', {
      HOST: '127.0.0.1',
      PORT: '9090',
      LOG_LEVEL: 'debug',
    });
    expect(config.http).toMatchObject({ host: '127.0.0.1', port: 9090 });
    expect(config.log.level).toBe('debug');
  });

  it('SMPP_BRIDGE_API_TOKENS adds comma-separated tokens to auth.tokens, without duplicates', () => {
    const config = parse('auth: { tokens: [file-token] }', {
      SMPP_BRIDGE_API_TOKENS: ' env-1, ,env-2,file-token',
    });
    expect(config.auth.tokens).toEqual(['file-token', 'env-1', 'env-2']);
  });

  it('ignores override variables set to the empty string', () => {
    expect(parse('http: { port: 8081 }', { PORT: '' }).http.port).toBe(8081);
  });

  it('reports bad override values with the variable name, together with file problems', () => {
    const error = configError(() =>
      parse('http: { port: x }', {
        PORT: '70000',
        LOG_LEVEL: 'loud',
        SMPP_BRIDGE_API_TOKENS: 'ok,has space',
      }),
    );
    expect(error.issues.map((issue) => issue.path)).toEqual([
      'http.port',
      'env.PORT',
      'env.LOG_LEVEL',
      'env.SMPP_BRIDGE_API_TOKENS',
    ]);
    expect(issueAt(error, 'env.PORT')?.message).toContain('got "70000"');
    expect(issueAt(error, 'env.LOG_LEVEL')?.message).toContain('got "loud"');
    // The bad token is a secret: its position is named, its text is not.
    expect(issueAt(error, 'env.SMPP_BRIDGE_API_TOKENS')?.message).toContain('token 2');
    expect(error.message).not.toContain('has space');
  });
});

describe('errors name the path of the bad key', () => {
  it('is a ConfigError with code SMPP_ERR_CONFIG listing one issue per line', () => {
    const error = configError(() => parse(`http: { port: '80' }\nlog: { level: loud }`));
    expect(error).toBeInstanceOf(SmppError);
    expect(error.code).toBe(ErrorCode.Config);
    expect(error.message.split('\n')).toEqual([
      'Invalid configuration (2 problems):',
      `  http.port (line 1): expected a port number from 0 to 65535 (0 = any free port), got "80"`,
      `  log.level (line 2): expected one of 'fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent', got "loud"`,
    ]);
  });

  it('wrong type: names the expected type and the value found', () => {
    const error = configError(() => parse(`binds:\n${bind('    windowSize: ten\n')}`));
    expect(error.issues).toEqual([
      { path: 'binds[0].windowSize', line: 7, message: 'expected an integer from 1 to 1000, got "ten"' },
    ]);
  });

  it('wrong type for a secret: says what was found without showing it, and how to fix it', () => {
    const error = configError(() =>
      parse(`binds:\n${bind().replace('password: secret', 'password: 12345678')}`),
    );
    const message = issueAt(error, 'binds[0].password')?.message ?? '';
    expect(message).toContain('got a number');
    expect(message).toContain('quote it');
    expect(message).not.toContain('12345678');
  });

  it('unknown key: an error, with a suggestion when close to a known key', () => {
    const error = configError(() =>
      parse(
        `htp: {}\nbinds:\n${bind('    system_type: x\n    enquireLinkIntervalMS: 5000\n    colour: red\n')}`,
      ),
    );
    expect(issueAt(error, 'htp')?.message).toBe('unknown key; did you mean "http"?');
    expect(issueAt(error, 'binds[0].system_type')?.message).toBe('unknown key; did you mean "systemType"?');
    expect(issueAt(error, 'binds[0].enquireLinkIntervalMS')?.message).toBe(
      'unknown key; did you mean "enquireLinkIntervalMs"?',
    );
    expect(issueAt(error, 'binds[0].colour')?.message).toMatch(/^unknown key; /);
    expect(issueAt(error, 'binds[0].colour')?.message).not.toContain('did you mean');
  });

  it('metrics.perBindHistograms: a boolean, named by path when it is not', () => {
    expect(parse('metrics: { perBindHistograms: true }').metrics).toEqual({
      enabled: true,
      perBindHistograms: true,
    });
    const error = configError(() => parse('metrics: { perBindHistograms: lots }'));
    expect(issueAt(error, 'metrics.perBindHistograms')).toBeDefined();
  });

  it('unknown key in a small section: lists the known keys', () => {
    const error = configError(() => parse('metrics: { enable: true, path: /m }'));
    expect(issueAt(error, 'metrics.enable')?.message).toBe('unknown key; did you mean "enabled"?');
    expect(issueAt(error, 'metrics.path')?.message).toBe(
      'unknown key; expected one of enabled, perBindHistograms',
    );
  });

  it('missing required key: names it and what it expects', () => {
    const error = configError(() =>
      parse('binds:\n  - id: a\n    host: h\n    systemId: s\n    password: p\n'),
    );
    expect(issueAt(error, 'binds[0].port')?.message).toBe(
      'required key is missing; expected a port number from 1 to 65535',
    );
  });

  it('duplicate bind id', () => {
    const error = configError(() =>
      parse(`binds:\n${bind('', 'same')}\n${bind('', 'other')}\n${bind('', 'same')}`),
    );
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]).toMatchObject({
      path: 'binds[2].id',
      message: 'duplicate id "same": binds[0] has it too',
    });
  });

  it.each(['-starts-with-dash', 'has/slash', 'has space', 'x'.repeat(65), 'ünicode'])(
    'bad bind id %j',
    (id) => {
      const error = configError(() => parse(`binds:\n${bind('', JSON.stringify(id))}`));
      expect(issueAt(error, 'binds[0].id')?.message).toMatch(/^expected an id of 1 to 64 letters, digits/);
    },
  );

  it.each(['A', 'operator-a', 'op_1.eu', 'x'.repeat(64)])('good bind id %j', (id) => {
    expect(parse(`binds:\n${bind('', JSON.stringify(id))}`).binds[0]?.id).toBe(id);
  });

  it.each([0, 65536, -1, 2775.5])('bad bind port %s', (port) => {
    const error = configError(() => parse(`binds:\n${bind().replace('port: 2775', `port: ${port}`)}`));
    expect(issueAt(error, 'binds[0].port')?.message).toBe(
      `expected a port number from 1 to 65535, got ${port}`,
    );
  });

  it('YAML syntax error: reports line and column, and nothing else', () => {
    const error = configError(() =>
      parse('http:\n  port: 8080\nbinds:\n  - id: a\n    port: [1\n  - id: b\n'),
    );
    expect(error.issues).toHaveLength(1);
    expect(error.issues[0]?.line).toBe(6);
    expect(error.issues[0]?.message).toMatch(/^YAML syntax error at line 6, column \d+: /);
  });

  it('YAML duplicate keys are syntax errors', () => {
    const error = configError(() => parse('http: { port: 1 }\nhttp: { port: 2 }\n'));
    expect(error.issues[0]?.message).toMatch(
      /^YAML syntax error at line 2, column 1: Map keys must be unique/,
    );
  });

  it('a file that is not a mapping', () => {
    const error = configError(() => parse('- a\n- b\n'));
    expect(error.issues[0]?.message).toBe(
      'the file must be a mapping of sections (http, binds, ...), found a list',
    );
  });

  it('sanity rules on bind tuning', () => {
    const error = configError(() =>
      parse(
        `defaults:\n  enquireLinkIntervalMs: 999\n  enquireLinkTimeoutMs: 0\n  windowSize: 1001\n  maxMissedProbes: 0\n` +
          `  connectTimeoutMs: 2147483648\n`,
      ),
    );
    expect(error.issues.map(({ path, message }) => `${path}: ${message}`)).toEqual([
      'defaults.enquireLinkIntervalMs: expected a whole number of milliseconds from 1000 to 2147483647, got 999',
      'defaults.enquireLinkTimeoutMs: expected a whole number of milliseconds from 1 to 2147483647, got 0',
      'defaults.windowSize: expected an integer from 1 to 1000, got 1001',
      'defaults.maxMissedProbes: expected an integer from 1 to 1000, got 0',
      'defaults.connectTimeoutMs: expected a whole number of milliseconds from 1 to 2147483647, got 2147483648',
    ]);
  });

  it('cross-key rules: reconnect delays, inactivity vs probes, cert without key, readiness', () => {
    const error = configError(() =>
      parse(
        `defaults:\n  reconnect: { initialDelayMs: 5000, maxDelayMs: 1000 }\n` +
          `readiness: { policy: atLeast, minHealthy: 2 }\n` +
          `binds:\n${bind('    inactivityTimeoutMs: 30000\n    tls: { cert: client.pem }\n')}`,
      ),
    );
    expect(issueAt(error, 'defaults.reconnect.initialDelayMs')?.message).toBe(
      'reconnect.initialDelayMs (5000) must not exceed reconnect.maxDelayMs (1000)',
    );
    expect(issueAt(error, 'readiness.minHealthy')?.message).toMatch(
      /2 healthy binds .* only 1 are configured/,
    );
    expect(issueAt(error, 'binds[0].inactivityTimeoutMs')?.message).toMatch(
      /^inactivityTimeoutMs \(30000\) must be 0 \(off\) or greater than enquireLinkIntervalMs \(30000\)/,
    );
    expect(issueAt(error, 'binds[0].tls.cert')?.message).toContain('key is missing');
  });

  it('minHealthy with a policy other than atLeast is an error, not silently ignored', () => {
    const error = configError(() => parse('readiness: { policy: quorum, minHealthy: 2 }'));
    expect(issueAt(error, 'readiness.minHealthy')?.message).toContain("only used with policy 'atLeast'");
  });

  it('a simulator section must say whether it runs', () => {
    const error = configError(() => parse('simulator: { port: 2775 }'));
    expect(issueAt(error, 'simulator.enabled')?.message).toBe(
      'required key is missing; expected true or false',
    );
  });

  it('lists every problem at once, in file order', () => {
    const error = configError(() =>
      parse(
        `http: { port: -1 }\nbinds:\n${bind('    bindType: both\n', 'a')}\n${bind('    windowSize: 0\n', 'a')}`,
        {},
      ),
    );
    expect(error.issues.map((issue) => issue.path)).toEqual([
      'http.port',
      'binds[0].bindType',
      'binds[1].id',
      'binds[1].windowSize',
    ]);
  });

  it('reports many errors (beyond a validator error cap) in a long bind list', () => {
    const binds = Array.from({ length: 30 }, (_, i) => bind('    windowSize: 0\n', `b${i}`)).join('\n');
    const error = configError(() => parse(`binds:\n${binds}`));
    expect(error.issues).toHaveLength(30);
    expect(error.issues.at(-1)?.path).toBe('binds[29].windowSize');
  });

  it('a __proto__ key is reported as unknown, not merged into the object prototype', () => {
    const error = configError(() => parse('http:\n  __proto__: { port: 1 }\n'));
    expect(error.issues.map((issue) => issue.path)).toEqual(['http.__proto__']);
  });
});

describe('TLS files', () => {
  let dir: string | undefined;
  afterEach(() => {
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  const pem = (label: string) => `-----BEGIN ${label}-----\nMIIB\n-----END ${label}-----\n`;

  function configDir(): string {
    dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-config-'));
    mkdirSync(join(dir, 'certs'));
    writeFileSync(join(dir, 'certs', 'ca.pem'), pem('CERTIFICATE'));
    writeFileSync(join(dir, 'certs', 'client.pem'), pem('CERTIFICATE'));
    writeFileSync(join(dir, 'certs', 'client.key'), pem('PRIVATE KEY'));
    writeFileSync(join(dir, 'not-pem.txt'), 'hello');
    return dir;
  }

  it('reads ca, cert and key relative to the config file directory, via loadConfig', () => {
    const base = configDir();
    const text = `binds:\n${bind('    tls: { ca: certs/ca.pem, cert: certs/client.pem, key: certs/client.key, servername: smsc }\n')}`;
    writeFileSync(join(base, 'bridge.yaml'), text);
    const config = loadConfig({ argv: ['serve', '--config', 'bridge.yaml'], env: {}, cwd: base });
    expect(config.source).toBe(join(base, 'bridge.yaml'));
    expect(config.binds[0]?.tls).toEqual({
      enabled: true,
      rejectUnauthorized: true,
      servername: 'smsc',
      ca: pem('CERTIFICATE'),
      cert: pem('CERTIFICATE'),
      key: pem('PRIVATE KEY'),
    });
  });

  it('a missing or non-PEM file is an error naming the key', () => {
    const base = configDir();
    const error = configError(() =>
      parse(
        `binds:\n${bind('    tls: { ca: certs/nope.pem, cert: not-pem.txt, key: certs/client.key }\n')}`,
        {},
        base,
      ),
    );
    expect(issueAt(error, 'binds[0].tls.ca')?.message).toMatch(
      /^cannot read "certs\/nope\.pem" \(.*\): no such file$/,
    );
    expect(issueAt(error, 'binds[0].tls.cert')?.message).toMatch(/^"not-pem.txt" .* is not a PEM file/);
  });

  it('does not read the files of a bind whose TLS is disabled', () => {
    const config = parse(`binds:\n${bind('    tls: { enabled: false, ca: certs/missing.pem }\n')}`);
    expect(config.binds[0]?.tls).toEqual({ enabled: false, rejectUnauthorized: true });
  });

  it('tls that is neither a boolean nor a mapping says what tls accepts', () => {
    const error = configError(() => parse(`binds:\n${bind('    tls: yes\n')}`));
    expect(error.issues).toEqual([
      expect.objectContaining({
        path: 'binds[0].tls',
        message: 'expected true, false or a mapping of TLS settings, got "yes"',
      }),
    ]);
  });

  it('a bad tls mapping reports the bad key inside it, not "expected true or false"', () => {
    const error = configError(() => parse(`binds:\n${bind('    tls: { rejectUnauthorised: false }\n')}`));
    expect(error.issues).toEqual([
      expect.objectContaining({
        path: 'binds[0].tls.rejectUnauthorised',
        message: 'unknown key; did you mean "rejectUnauthorized"?',
      }),
    ]);
  });
});

describe('finding the config file and demo mode', () => {
  it('uses configPath, else --config in argv, else SMPP_BRIDGE_CONFIG', () => {
    const env = { SMPP_BRIDGE_CONFIG: 'env.yaml' };
    expect(configPathFrom({ configPath: 'explicit.yaml', argv: ['--config', 'argv.yaml'], env })).toBe(
      'explicit.yaml',
    );
    expect(configPathFrom({ argv: ['serve', '--config', 'argv.yaml'], env })).toBe('argv.yaml');
    expect(configPathFrom({ argv: ['serve', '--config=eq.yaml'], env })).toBe('eq.yaml');
    expect(configPathFrom({ argv: ['serve'], env })).toBe('env.yaml');
    expect(configPathFrom({ argv: ['serve'], env: { SMPP_BRIDGE_CONFIG: ' ' } })).toBeUndefined();
  });

  it('--config without a path is an error', () => {
    expect(configError(() => configPathFrom({ argv: ['--config'], env: {} })).message).toContain(
      '--config needs',
    );
  });

  it('a config file that does not exist is an error naming it', () => {
    const error = configError(() =>
      loadConfig({ configPath: 'no-such-dir/none.yaml', env: {}, cwd: repoRoot }),
    );
    expect(error.message).toContain(join('no-such-dir', 'none.yaml'));
    expect(error.message).toContain('no such file');
  });

  it('no file at all is demo mode: simulator on a free loopback port, no binds yet', () => {
    const config = loadConfig({ argv: ['serve'], env: {} });
    expect(config.demo).toBe(true);
    expect(config.simulator).toEqual({ enabled: true, host: '127.0.0.1', port: 0 });
    expect(config.binds).toEqual([]);
    expect(config.http.port).toBe(8080);
    expect(config.defaults).toEqual(DEFAULT_BIND_TUNING);
  });

  it('demo mode still applies environment overrides and rejects bad ones', () => {
    const config = loadConfig({ env: { PORT: '3000', SMPP_BRIDGE_API_TOKENS: 't1,t2' } });
    expect(config.http.port).toBe(3000);
    expect(config.auth.tokens).toEqual(['t1', 't2']);
    expect(configError(() => loadConfig({ env: { PORT: 'eighty' } })).issues[0]?.path).toBe('env.PORT');
  });

  it('the simulator section configures the embedded simulator', () => {
    const config = parse(
      'simulator: { enabled: true, port: 2775, accounts: [{ systemId: acme, password: pw }] }',
    );
    expect(config.simulator).toEqual({
      enabled: true,
      host: '127.0.0.1',
      port: 2775,
      accounts: [{ systemId: 'acme', password: 'pw' }],
    });
  });
});

describe('config/example.yaml', () => {
  const env = {
    OPERATOR_A_PASSWORD: 'pw-a',
    OPERATOR_B_PASSWORD: 'pw-b',
    SMPP_BRIDGE_ADMIN_TOKEN: 'admin-token',
  };

  it('loads cleanly with its environment variables set', () => {
    const config = loadConfig({ configPath: join(repoRoot, 'config', 'example.yaml'), env });
    expect(config.binds.map((b) => b.id)).toEqual(['operator-a', 'operator-b']);
    expect(config.binds[0]?.password).toBe('pw-a');
    expect(config.binds[0]?.enquireLinkIntervalMs).toBe(20000);
    expect(config.binds[1]).toMatchObject({ bindType: 'transmitter', tls: { enabled: true } });
    expect(config.binds[1]?.reconnect.maxDelayMs).toBe(120000);
    expect(config.auth.tokens).toEqual(['admin-token']);
  });

  it('names the variables it needs when they are missing', () => {
    const error = configError(() =>
      loadConfig({ configPath: join(repoRoot, 'config', 'example.yaml'), env: {} }),
    );
    expect(error.issues.map((issue) => issue.path).sort()).toEqual([
      'auth.tokens[0]',
      'binds[0].password',
      'binds[1].password',
    ]);
  });
});

describe('YAML syntax errors', () => {
  it('hints at quoting a ${VAR} reference inside a flow mapping', () => {
    const error = configError(() => parse('http: { port: ${PORT} }\n'));
    expect(error.issues[0]?.message).toContain('quote a value that contains ${...}');
    expect(parse("http: { port: '${P}' }\n", { P: '81' }).http.port).toBe(81);
  });

  it('shows the first few errors of a cascade and counts the rest', () => {
    const error = configError(() => parse('a: { b\nc: d e: f\n]]]]\n}}}}\n: : :\n- - -\n[[[\n'));
    expect(error.issues.length).toBeLessThanOrEqual(6);
    expect(error.issues.at(-1)?.message).toMatch(/^\.\.\. and \d+ more YAML syntax errors/);
  });
});
