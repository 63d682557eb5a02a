/**
 * A bind's PDU trace: the PDUs held as JSON (decoded on read), live as server-sent events, and
 * as a pcap file for Wireshark/tshark. The stream has one trace subscription per bind however
 * many clients follow it (the PDU is decoded and stringified once), a heartbeat comment like
 * /events, and bounded buffering per client: while a client has more than
 * TRACE_STREAM_MAX_BUFFERED_BYTES unsent, its PDUs are dropped and counted, and the next event it
 * gets is `event: dropped` with the count. Streams end when the bind is removed or the app closes.
 */
import type { ServerResponse } from 'node:http';
import { Type } from 'typebox';
import type { BindSupervisor } from '../../binds/bind.js';
import type { TraceRecord } from '../../binds/pdu-trace.js';
import { tracePcap } from '../../binds/trace-pcap.js';
import type { App, RouteContext } from '../context.js';
import { bindNotFound } from '../errors.js';
import { BindIdParamsSchema } from '../schemas/bind.js';
import { errorResponses, jsonResponse } from '../schemas/common.js';
import {
  EXAMPLE_TRACE,
  EXAMPLE_TRACE_ENTRY,
  TraceEntrySchema,
  TraceQuerySchema,
  TraceSchema,
  TraceStreamQuerySchema,
} from '../schemas/trace.js';
import { traceEntries, traceEntry } from '../trace-views.js';

/** Unsent bytes a stream client may hold before its PDUs are dropped. */
export const TRACE_STREAM_MAX_BUFFERED_BYTES = 256 * 1024;

const READ_SECURITY: Record<string, string[]>[] = [{}, { bearerAuth: [] }];

function commandSet(command: string | undefined): ReadonlySet<string> | undefined {
  return command === undefined ? undefined : new Set(command.split(','));
}

interface StreamClient {
  res: ServerResponse;
  commands: ReadonlySet<string> | undefined;
  dropped: number;
  close: () => void;
}

/** The clients following one bind, and the trace subscription feeding them. */
interface BindStreams {
  bind: BindSupervisor;
  clients: Set<StreamClient>;
  unsubscribe: () => void;
}

export function registerTraceRoutes(app: App, ctx: RouteContext): void {
  const { registry } = ctx;
  app.addSchema(TraceEntrySchema);
  app.addSchema(TraceSchema);
  const streams = new Map<string, BindStreams>();
  const onRemoved = ({ bindId }: { bindId: string }): void => {
    const group = streams.get(bindId);
    if (group) for (const c of [...group.clients]) c.close();
  };

  const fanOut = (group: BindStreams, record: TraceRecord & { kind: 'pdu' }): void => {
    const entry = traceEntry(record);
    const text = `event: pdu\ndata: ${JSON.stringify(entry)}\n\n`;
    for (const client of group.clients) {
      if (client.commands && !client.commands.has(entry.command)) continue;
      if (client.res.writableLength > TRACE_STREAM_MAX_BUFFERED_BYTES) {
        client.dropped++;
        continue;
      }
      if (client.dropped > 0) {
        client.res.write(`event: dropped\ndata: ${JSON.stringify({ dropped: client.dropped })}\n\n`);
        client.dropped = 0;
      }
      client.res.write(text);
    }
  };

  const follow = (bind: BindSupervisor, client: StreamClient): void => {
    let group = streams.get(bind.id);
    if (group && group.bind !== bind) {
      // The bind was replaced under the same id: its old streams are over.
      for (const c of [...group.clients]) c.close();
      group = streams.get(bind.id);
    }
    if (!group) {
      // Listening for removed binds only while some stream is open (no listener per app at rest).
      if (streams.size === 0) registry.on('removed', onRemoved);
      const created: BindStreams = { bind, clients: new Set(), unsubscribe: () => {} };
      created.unsubscribe = bind.trace.subscribe((record) => fanOut(created, record));
      streams.set(bind.id, created);
      group = created;
    }
    group.clients.add(client);
  };

  const forget = (bindId: string, client: StreamClient): boolean => {
    const group = streams.get(bindId);
    if (!group?.clients.delete(client)) return false;
    if (group.clients.size === 0) {
      group.unsubscribe();
      streams.delete(bindId);
      if (streams.size === 0) registry.off('removed', onRemoved);
    }
    return true;
  };

  app.addHook('preClose', async () => {
    for (const group of [...streams.values()]) for (const c of [...group.clients]) c.close();
  });

  app.get(
    '/binds/:id/trace',
    {
      schema: {
        operationId: 'getBindTrace',
        summary: 'The last PDUs of a bind, decoded',
        description:
          "The PDUs the bind's trace holds (the last `traceSize`, default 200, both directions), oldest first: time (µs), direction, command, status, sequence, length and the decoded fields, with the bind password masked. `limit` keeps the newest ones, `command` only the given commands (comma-separated).",
        tags: ['binds'],
        security: READ_SECURITY,
        params: BindIdParamsSchema,
        querystring: TraceQuerySchema,
        response: {
          200: jsonResponse('Trace', 'The PDUs held, oldest first.', {
            probe: { summary: 'A probe and its answer', value: EXAMPLE_TRACE },
          }),
          ...errorResponses('VALIDATION_FAILED', 'UNAUTHORIZED', 'BIND_NOT_FOUND', 'INTERNAL_ERROR'),
        },
      },
    },
    async (request) => {
      const bind = registry.get(request.params.id);
      if (!bind) throw bindNotFound(request.params.id);
      const { limit, command } = request.query;
      const trace = bind.trace;
      const commands = commandSet(command);
      return {
        bindId: bind.id,
        size: trace.size,
        maxBytes: trace.maxBytes,
        held: trace.count,
        recorded: trace.recorded,
        pdus: traceEntries(trace, {
          ...(limit === undefined ? {} : { limit }),
          ...(commands ? { commands } : {}),
        }),
      };
    },
  );

  app.get(
    '/binds/:id/trace/stream',
    {
      schema: {
        operationId: 'streamBindTrace',
        summary: "A bind's PDUs live, as server-sent events",
        description: `A text/event-stream: one \`event: pdu\` per PDU read or written from now on (data: TraceEntry), a \`: heartbeat\` comment every 15 s, and \`event: dropped\` (data: { dropped }) when this client fell more than ${TRACE_STREAM_MAX_BUFFERED_BYTES} bytes behind and PDUs were skipped. \`command\` keeps only the given commands. Ends when the bind is removed. Try: curl -N http://localhost:8080/binds/main/trace/stream`,
        tags: ['binds'],
        security: READ_SECURITY,
        params: BindIdParamsSchema,
        querystring: TraceStreamQuerySchema,
        response: {
          200: {
            description: 'The event stream (never ends by itself).',
            content: {
              'text/event-stream': {
                schema: Type.String(),
                examples: {
                  stream: {
                    summary: 'Two PDUs',
                    value: `event: pdu\ndata: ${JSON.stringify(EXAMPLE_TRACE_ENTRY)}\n\n: heartbeat\n\n`,
                  },
                },
              },
            },
          },
          ...errorResponses('VALIDATION_FAILED', 'UNAUTHORIZED', 'BIND_NOT_FOUND', 'INTERNAL_ERROR'),
        },
      },
    },
    (request, reply) => {
      const bind = registry.get(request.params.id);
      if (!bind) throw bindNotFound(request.params.id);
      const res = reply.raw;
      reply.hijack();
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      // A first comment so clients (and proxies) see the stream open before the first PDU.
      res.write(': trace\n\n');
      const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), ctx.sseHeartbeatMs);
      heartbeat.unref();
      const client: StreamClient = {
        res,
        commands: commandSet(request.query.command),
        dropped: 0,
        close: () => {
          if (!forget(bind.id, client)) return;
          clearInterval(heartbeat);
          res.end();
        },
      };
      follow(bind, client);
      res.on('close', client.close);
      res.on('error', client.close);
    },
  );

  app.get(
    '/binds/:id/trace.pcap',
    {
      schema: {
        operationId: 'getBindTracePcap',
        summary: "A bind's trace as a pcap file (Wireshark, tshark)",
        description:
          "The PDUs the trace holds as a pcap file: one TCP segment per PDU, with synthetic Ethernet/IP/TCP headers on the connection's real addresses and ports (sequence numbers per direction, so Wireshark reassembles). The bind password is '*' of the same length. Wireshark decodes SMPP by itself on port 2775; for another port use Decode As… or `tshark -d tcp.port==<port>,smpp`.",
        tags: ['binds'],
        security: READ_SECURITY,
        params: BindIdParamsSchema,
        response: {
          200: {
            description: 'The pcap file (libpcap, µs timestamps, Ethernet).',
            content: {
              'application/vnd.tcpdump.pcap': {
                schema: Type.Unsafe<Buffer>({ type: 'string', format: 'binary' }),
                examples: {
                  pcap: {
                    summary:
                      'A pcap file: the header (magic a1b2c3d4, version 2.4, Ethernet), then one record per segment',
                    value: '(binary)',
                  },
                },
              },
            },
          },
          ...errorResponses('VALIDATION_FAILED', 'UNAUTHORIZED', 'BIND_NOT_FOUND', 'INTERNAL_ERROR'),
        },
      },
    },
    async (request, reply) => {
      const bind = registry.get(request.params.id);
      if (!bind) throw bindNotFound(request.params.id);
      const pcap = tracePcap(bind.trace.read());
      return reply
        .type('application/vnd.tcpdump.pcap')
        .header('content-disposition', `attachment; filename="${bind.id}-trace.pcap"`)
        .send(pcap);
    },
  );
}
