/**
 * The simulator's HTTP control API, on its own port (loopback by default: it switches faults,
 * so it is not for the open network).
 *
 *   GET    /health            { status: 'ok', port, sessions }
 *   GET    /sessions          the live sessions (SimSessionInfo[])
 *   GET    /counters          PDUs in/out by command, binds, submits, receipts sent
 *   GET    /faults            the faults switched on: [{ id, fault, scope }]
 *   GET    /faults/catalogue  every fault kind with what it does
 *   POST   /faults            { fault, scope? } → 201 { id }
 *   DELETE /faults/:id        204, or 404
 *   DELETE /faults            204: every fault off
 *   POST   /mo                { from, to, text?, dataCoding?, systemId?, tlvs?: [{ tag, hex }] } → { delivered }
 *   GET    /messages/:id      a message the simulator accepted: its state and dates, or 404
 *
 * Bodies are checked with TypeBox schemas; every error is `{ code, message }` (400 for bad
 * input, 404 for what does not exist). Statuses in faults may be numbers or names.
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { Type } from 'typebox';
import { ErrorCode } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { SimErrorCode, type SimIssue, SimulatorError } from './errors.js';
import { checkFault, checkScope, FAULT_CATALOGUE, FAULT_KINDS } from './faults.js';
import type { SmscSimulator } from './simulator.js';
import { issuesOf, strict } from './validate.js';

export interface ControlApiOptions {
  logger?: Logger;
  /** Largest request body accepted. Default 64 KiB. */
  bodyLimitBytes?: number;
}

const FaultBodySchema = Type.Object({ fault: Type.Unknown(), scope: Type.Optional(Type.Unknown()) }, strict);

const MoBodySchema = Type.Object(
  {
    from: Type.String({ minLength: 1, maxLength: 20 }),
    to: Type.String({ minLength: 1, maxLength: 20 }),
    text: Type.Optional(Type.String({ maxLength: 10_000 })),
    dataCoding: Type.Optional(Type.Integer({ minimum: 0, maximum: 255 })),
    systemId: Type.Optional(Type.String({ minLength: 1, maxLength: 15 })),
    tlvs: Type.Optional(
      Type.Array(
        Type.Object(
          {
            tag: Type.Integer({ minimum: 0, maximum: 0xffff }),
            hex: Type.String({ pattern: '^(?:[0-9a-fA-F]{2})*$', maxLength: 2_000, expected: 'hex octets' }),
          },
          strict,
        ),
      ),
    ),
  },
  strict,
);

const FAULT_ID = /^[1-9]\d{0,9}$/;

function invalid(what: string, issues: readonly SimIssue[]): SimulatorError {
  return SimulatorError.invalid(what, issues);
}

function check(what: string, schema: Parameters<typeof issuesOf>[0], value: unknown): void {
  if (value === undefined || value === null) {
    throw invalid(what, [{ path: '', message: 'expected a JSON object body' }]);
  }
  const issues = issuesOf(schema, value);
  if (issues.length > 0) throw invalid(what, issues);
}

function faultId(raw: string): number {
  if (!FAULT_ID.test(raw))
    throw invalid('fault id', [{ path: 'id', message: 'expected a positive integer' }]);
  return Number(raw);
}

/** The control API as a Fastify app, not listening (tests use `inject`). */
export function buildControlApi(sim: SmscSimulator, options: ControlApiOptions = {}): FastifyInstance {
  const log = options.logger ?? silentLogger;
  const app = Fastify({ logger: false, bodyLimit: options.bodyLimitBytes ?? 65_536 });

  app.setErrorHandler((error: FastifyError | SimulatorError, _request, reply) => {
    if (error instanceof SimulatorError) {
      const status = error.code === SimErrorCode.NotFound ? 404 : 400;
      return reply.code(status).send({ code: error.code, message: error.message });
    }
    const statusCode = (error as FastifyError).statusCode;
    if (statusCode !== undefined && statusCode >= 400 && statusCode < 500) {
      // Fastify's own 4xx: unparsable JSON, an empty body, a body too large, a media type it does not read.
      return reply.code(statusCode).send({ code: SimErrorCode.InvalidInput, message: error.message });
    }
    log.error({ err: error.message }, 'control API: internal error');
    return reply.code(500).send({ code: ErrorCode.SimInternal, message: 'internal error' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.code(404).send({
      code: SimErrorCode.NotFound,
      message: `no route ${request.method} ${request.url.split('?')[0]}`,
    }),
  );

  app.get('/health', async () => ({
    status: sim.closed ? 'closed' : 'ok',
    port: sim.port,
    sessions: sim.sessions().length,
  }));
  app.get('/sessions', async () => sim.sessions());
  app.get('/counters', async () => sim.counters());
  app.get('/faults', async () => sim.faults());
  app.get('/faults/catalogue', async () =>
    FAULT_KINDS.map((kind) => ({ kind, summary: FAULT_CATALOGUE[kind].summary })),
  );

  app.post('/faults', async (request, reply) => {
    check('fault request', FaultBodySchema, request.body);
    const body = request.body as { fault: unknown; scope?: unknown };
    const fault = checkFault(body.fault, ['fault']);
    const scope = checkScope(body.scope, ['scope']);
    const issues = [...fault.issues, ...scope.issues];
    if (issues.length > 0 || !fault.fault || !scope.scope) throw invalid('fault', issues);
    const id = sim.setFault(fault.fault, scope.scope);
    log.info({ id, fault: fault.fault, scope: scope.scope, remote: request.ip }, 'control API: fault on');
    return reply.code(201).send({ id });
  });

  app.delete<{ Params: { id: string } }>('/faults/:id', async (request, reply) => {
    sim.clearFault(faultId(request.params.id));
    return reply.code(204).send();
  });

  app.delete('/faults', async (_request, reply) => {
    sim.clearFault();
    return reply.code(204).send();
  });

  app.post('/mo', async (request) => {
    check('MO request', MoBodySchema, request.body);
    const body = request.body as {
      from: string;
      to: string;
      text?: string;
      dataCoding?: number;
      systemId?: string;
      tlvs?: { tag: number; hex: string }[];
    };
    return sim.injectMo({
      from: body.from,
      to: body.to,
      ...(body.text !== undefined ? { text: body.text } : {}),
      ...(body.dataCoding !== undefined ? { dataCoding: body.dataCoding } : {}),
      ...(body.systemId !== undefined ? { systemId: body.systemId } : {}),
      ...(body.tlvs
        ? { tlvs: body.tlvs.map((t) => ({ tag: t.tag, value: Buffer.from(t.hex, 'hex') })) }
        : {}),
    });
  });

  app.get<{ Params: { id: string } }>('/messages/:id', async (request) => {
    const m = sim.message(request.params.id);
    if (m === undefined) {
      throw new SimulatorError(
        SimErrorCode.NotFound,
        `no message with id ${JSON.stringify(request.params.id)}`,
      );
    }
    return {
      id: m.id,
      systemId: m.systemId,
      command: m.command,
      source: m.source.addr,
      destinations: m.destinations.map((d) => d.addr),
      registeredDelivery: m.registeredDelivery,
      state: m.stat ?? 'ENROUTE',
      messageState: m.state,
      submitDate: m.submitDate.toISOString(),
      finalDate: m.finalDate?.toISOString() ?? null,
    };
  });

  return app;
}

export interface RunningControlApi {
  app: FastifyInstance;
  host: string;
  port: number;
  url: string;
  close(): Promise<void>;
}

/** Builds the control API and listens (default 127.0.0.1, a free port). */
export async function startControlApi(
  sim: SmscSimulator,
  options: ControlApiOptions & { host?: string; port?: number } = {},
): Promise<RunningControlApi> {
  const app = buildControlApi(sim, options);
  const host = options.host ?? '127.0.0.1';
  await app.listen({ host, port: options.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address !== null ? address.port : (options.port ?? 0);
  const shown = host.includes(':') ? `[${host}]` : host;
  return { app, host, port, url: `http://${shown}:${port}`, close: () => app.close() };
}
