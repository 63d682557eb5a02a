/**
 * `serve` with store.url: the message path runs on PostgreSQL (a throwaway server, see
 * test/helpers/postgres-server.ts), not on the SQLite file at store.path. A message POSTed over
 * HTTP is stored in the database and reaches the embedded simulator.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningService, startService } from '../../src/cli/serve.js';
import { demoConfig } from '../../src/config/service-config.js';
import { cleanMessageId } from '../../src/protocol/receipt.js';
import { PostgresStore } from '../../src/store/postgres-store.js';
import { eventually } from '../bridge/outbound/harness.js';
import { type PostgresServer, postgresUnavailable, startPostgres } from '../helpers/postgres-server.js';

const unavailable = postgresUnavailable();

describe.skipIf(unavailable !== undefined)('serve with store.url (PostgreSQL)', () => {
  let server: PostgresServer | undefined;
  let url = '';
  let service: RunningService | undefined;
  const dir = mkdtempSync(join(tmpdir(), 'smpp-bridge-serve-pg-'));

  beforeAll(async () => {
    server = await startPostgres();
    url = await server.createDatabase('serve_test');
  }, 120_000);
  afterAll(async () => {
    await service?.shutdown();
    await server?.stop();
    rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  it('accepts a message over HTTP, stores it in the database and delivers it to the simulator', async () => {
    const config = demoConfig();
    config.http = { ...config.http, host: '127.0.0.1', port: 0 };
    // store.path stays set: with store.url it must not be used.
    const sqlitePath = join(dir, 'unused.db');
    config.store = { ...config.store, path: sqlitePath, url };
    service = await startService(config, pino({ level: 'silent' }));
    expect(service.messages.store).toBeInstanceOf(PostgresStore);

    const res = await fetch(`${service.url}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ to: '+447700900123', from: 'ACME', text: 'Hello from PostgreSQL' }),
    });
    expect(res.status, await res.clone().text()).toBe(202);
    const { id } = (await res.json()) as { id: string };

    const simulator = service.simulator!;
    const received = await eventually(
      async () =>
        simulator.messages().find((m) => m.payload.toString('latin1').includes('Hello from PostgreSQL')),
      15_000,
      'the simulator received the submit_sm',
    );
    expect(received.destinations.map((d) => d.addr.replace(/^\+/, ''))).toEqual(['447700900123']);
    await eventually(
      async () => (await service!.messages.store.getMessage(id))?.status === 'submitted',
      15_000,
      'submitted',
    );

    // The message is in the database itself (another connection sees it), with its SMSC id.
    const client = new pg.Client(url);
    await client.connect();
    try {
      const { rows } = await client.query(
        'SELECT m.status, p.smsc_message_id FROM messages m JOIN message_parts p ON p.message_id = m.id WHERE m.id = $1',
        [id],
      );
      expect(rows).toEqual([{ status: 'submitted', smsc_message_id: cleanMessageId(received.id) }]);
    } finally {
      await client.end();
    }
    // …and not in the SQLite file.
    expect(existsSync(sqlitePath)).toBe(false);

    const running = service;
    service = undefined;
    await running.shutdown();
  }, 60_000);
});
