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
 *   GET    /cases             the message-path cases switched on: [{ id, case, scope }]
 *   GET    /cases/catalogue   every case kind with what it does
 *   POST   /cases             { case, scope?: { systemId?, destinationPrefix? } } → 201 { id }
 *   DELETE /cases/:id         204, or 404
 *   DELETE /cases             204: every case off
 *   POST   /mo                { from, to, text?, dataCoding?, systemId?, tlvs?: [{ tag, hex }],
 *                              split?: { method: udh8|udh16|sar|payload, reference? }, dropParts?: [n],
 *                              redeliver?: { timeoutMs, attempts, delayMs? } } → { id, parts, sent, delivered }
 *   POST   /mo/bursts         the same plus { count, ratePerSecond } → 201 the burst; `{n}` in text is its number
 *   GET    /mo/bursts         bursts running and recently finished; GET /mo/bursts/:id one of them
 *   DELETE /mo/bursts/:id     204: stops it (MO already sent finish)
 *   GET    /messages          the messages accepted, oldest first (?systemId=&destination=&after=<seq>&limit=)
 *   GET    /messages/:id      a message the simulator accepted: its state and dates, or 404
 *   GET    /deliveries        every deliver_sm written and its answer (?kind=receipt|mo&systemId=&moId=&outcome=&after=&limit=)
 *
 * Bodies are checked with TypeBox schemas; every error is `{ code, message }` (400 for bad
 * input, 404 for what does not exist). Statuses in faults may be numbers or names.
 */
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import { type Static, Type } from 'typebox';
import { ErrorCode } from '../errors.js';
import { type Logger, silentLogger } from '../logger.js';
import { EsmClass } from '../protocol/constants.js';
import { decodeText } from '../protocol/text.js';
import { CASE_CATALOGUE, CASE_KINDS, checkCase, checkCaseScope } from './cases.js';
import type { DeliveryOutcome } from './delivery-log.js';
import { SimErrorCode, type SimIssue, SimulatorError } from './errors.js';
import { checkFault, checkScope, FAULT_CATALOGUE, FAULT_KINDS } from './faults.js';
import type { StoredMessage } from './message-store.js';
import { MAX_BURST_COUNT, MAX_BURST_RATE, type MoRequest } from './mo-sender.js';
import type { SmscSimulator } from './simulator.js';
import { MAX_TIMER_MS } from './timer-set.js';
import { issuesOf, strict } from './validate.js';

export interface ControlApiOptions {
  logger?: Logger;
  /** Largest request body accepted. Default 64 KiB. */
  bodyLimitBytes?: number;
}

const FaultBodySchema = Type.Object({ fault: Type.Unknown(), scope: Type.Optional(Type.Unknown()) }, strict);

const MoFields = {
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
      { maxItems: 32 },
    ),
  ),
  split: Type.Optional(
    Type.Object(
      {
        method: Type.Union([
          Type.Literal('udh8'),
          Type.Literal('udh16'),
          Type.Literal('sar'),
          Type.Literal('payload'),
        ]),
        reference: Type.Optional(Type.Integer({ minimum: 0, maximum: 0xffff })),
      },
      strict,
    ),
  ),
  dropParts: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 255 }), { maxItems: 255 })),
  redeliver: Type.Optional(
    Type.Object(
      {
        timeoutMs: Type.Integer({ minimum: 1, maximum: MAX_TIMER_MS }),
        attempts: Type.Integer({ minimum: 0, maximum: 100 }),
        delayMs: Type.Optional(Type.Integer({ minimum: 0, maximum: MAX_TIMER_MS })),
      },
      strict,
    ),
  ),
};

const MoBodySchema = Type.Object(MoFields, strict);

const BurstBodySchema = Type.Object(
  {
    ...MoFields,
    count: Type.Integer({ minimum: 1, maximum: MAX_BURST_COUNT }),
    ratePerSecond: Type.Integer({ minimum: 1, maximum: MAX_BURST_RATE }),
  },
  strict,
);

const CaseBodySchema = Type.Object({ case: Type.Unknown(), scope: Type.Optional(Type.Unknown()) }, strict);

const Seq = Type.String({ pattern: '^\\d{1,15}$', expected: 'a whole number' });
const Limit = Type.String({ pattern: '^[1-9]\\d{0,4}$', expected: 'a whole number from 1 to 10000' });

const MessagesQuerySchema = Type.Object(
  {
    systemId: Type.Optional(Type.String({ minLength: 1, maxLength: 15 })),
    destination: Type.Optional(Type.String({ minLength: 1, maxLength: 21 })),
    after: Type.Optional(Seq),
    limit: Type.Optional(Limit),
  },
  strict,
);

const DeliveriesQuerySchema = Type.Object(
  {
    kind: Type.Optional(Type.Union([Type.Literal('receipt'), Type.Literal('mo')])),
    systemId: Type.Optional(Type.String({ minLength: 1, maxLength: 15 })),
    moId: Type.Optional(Type.String({ minLength: 1, maxLength: 30 })),
    outcome: Type.Optional(
      Type.Union([Type.Literal('pending'), Type.Literal('ok'), Type.Literal('error'), Type.Literal('none')]),
    ),
    after: Type.Optional(Seq),
    limit: Type.Optional(Limit),
  },
  strict,
);

type MoBody = Static<typeof MoBodySchema>;

/** An MO request body as the simulator takes it (TLVs as octets). */
function moOf(body: MoBody): MoRequest {
  const { tlvs, ...rest } = body;
  return {
    ...rest,
    ...(tlvs ? { tlvs: tlvs.map((t) => ({ tag: t.tag, value: Buffer.from(t.hex, 'hex') })) } : {}),
  } as MoRequest;
}

function limitOf(raw: string | undefined): number {
  return Math.min(Number(raw ?? 1_000), 10_000);
}

/** A stored message as the control API shows it. */
export function messageView(m: Readonly<StoredMessage>) {
  let octets = m.payload;
  if (m.esmClass & EsmClass.UDHI && octets.length > 0) octets = octets.subarray(1 + (octets[0] ?? 0));
  return {
    seq: m.seq ?? 0,
    id: m.id,
    receiptId: m.receiptId ?? m.id,
    systemId: m.systemId,
    sessionId: m.sessionId,
    command: m.command,
    source: m.source.addr,
    destinations: m.destinations.map((d) => d.addr),
    dataCoding: m.dataCoding,
    text: decodeText(octets, m.dataCoding).text,
    part: m.concat ?? null,
    registeredDelivery: m.registeredDelivery,
    responded: m.responded ?? true,
    state: m.stat ?? 'ENROUTE',
    messageState: m.state,
    submitDate: m.submitDate.toISOString(),
    finalDate: m.finalDate?.toISOString() ?? null,
  };
}

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

function faultId(raw: string, what = 'fault id'): number {
  if (!FAULT_ID.test(raw)) throw invalid(what, [{ path: 'id', message: 'expected a positive integer' }]);
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

  app.get('/cases', async () => sim.cases());
  app.get('/cases/catalogue', async () =>
    CASE_KINDS.map((kind) => ({ kind, summary: CASE_CATALOGUE[kind].summary })),
  );

  app.post('/cases', async (request, reply) => {
    check('case request', CaseBodySchema, request.body);
    const body = request.body as { case: unknown; scope?: unknown };
    const c = checkCase(body.case, ['case']);
    const scope = checkCaseScope(body.scope, ['scope']);
    const issues = [...c.issues, ...scope.issues];
    if (issues.length > 0 || !c.case || !scope.scope) throw invalid('case', issues);
    const id = sim.setCase(c.case, scope.scope);
    log.info({ id, case: c.case, scope: scope.scope, remote: request.ip }, 'control API: case on');
    return reply.code(201).send({ id });
  });

  app.delete<{ Params: { id: string } }>('/cases/:id', async (request, reply) => {
    sim.clearCase(faultId(request.params.id, 'case id'));
    return reply.code(204).send();
  });

  app.delete('/cases', async (_request, reply) => {
    sim.clearCase();
    return reply.code(204).send();
  });

  app.post('/mo', async (request) => {
    check('MO request', MoBodySchema, request.body);
    return sim.sendMo(moOf(request.body as MoBody));
  });

  app.post('/mo/bursts', async (request, reply) => {
    check('burst request', BurstBodySchema, request.body);
    const body = request.body as MoBody & { count: number; ratePerSecond: number };
    const burst = sim.startMoBurst({ ...moOf(body), count: body.count, ratePerSecond: body.ratePerSecond });
    log.info({ burst, remote: request.ip }, 'control API: MO burst started');
    return reply.code(201).send(burst);
  });

  app.get('/mo/bursts', async () => sim.moBursts());

  app.get<{ Params: { id: string } }>('/mo/bursts/:id', async (request) => {
    const id = faultId(request.params.id, 'burst id');
    const burst = sim.moBursts().find((b) => b.id === id);
    if (burst === undefined) throw new SimulatorError(SimErrorCode.NotFound, `no burst with id ${id}`);
    return burst;
  });

  app.delete<{ Params: { id: string } }>('/mo/bursts/:id', async (request, reply) => {
    sim.stopMoBurst(faultId(request.params.id, 'burst id'));
    return reply.code(204).send();
  });

  app.get('/messages', async (request) => {
    const q = (request.query ?? {}) as Record<string, string>;
    const issues = issuesOf(MessagesQuerySchema, q);
    if (issues.length > 0) throw invalid('messages query', issues);
    return sim
      .messages({
        ...(q.systemId ? { systemId: q.systemId } : {}),
        ...(q.destination ? { destination: q.destination } : {}),
        ...(q.after ? { after: Number(q.after) } : {}),
        limit: limitOf(q.limit),
      })
      .map(messageView);
  });

  app.get<{ Params: { id: string } }>('/messages/:id', async (request) => {
    const m = sim.message(request.params.id);
    if (m === undefined) {
      throw new SimulatorError(
        SimErrorCode.NotFound,
        `no message with id ${JSON.stringify(request.params.id)}`,
      );
    }
    return messageView(m);
  });

  app.get('/deliveries', async (request) => {
    const q = (request.query ?? {}) as Record<string, string>;
    const issues = issuesOf(DeliveriesQuerySchema, q);
    if (issues.length > 0) throw invalid('deliveries query', issues);
    return sim.deliveryRecords({
      ...(q.kind ? { kind: q.kind as 'receipt' | 'mo' } : {}),
      ...(q.systemId ? { systemId: q.systemId } : {}),
      ...(q.moId ? { moId: q.moId } : {}),
      ...(q.outcome ? { outcome: q.outcome as DeliveryOutcome } : {}),
      ...(q.after ? { after: Number(q.after) } : {}),
      limit: limitOf(q.limit),
    });
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
