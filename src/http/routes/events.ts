/**
 * GET /events: health transitions as server-sent events. The stream opens with `event: snapshot`
 * (every bind as it is now), then one `event: transition` per status change, and a comment line
 * every heartbeat interval so proxies keep the connection open. However many clients listen,
 * the registry has one transition listener (added with the first stream, removed with the last)
 * that fans each frame out, so no MaxListenersExceededWarning and one JSON.stringify per event.
 * A stream is forgotten when its client goes away, and every stream is ended when the app closes.
 *
 * With `?binds=true` (the dashboard's stream) the stream also carries `event: bind` after every
 * transition and every probe of a bind: the bind's summary (as in GET /binds), its probe and
 * reconnect counters, and the probe that caused it (its RTT feeds the dashboard's sparklines);
 * its snapshot's entries carry the same fields.
 * Those frames are built only while such a stream is open.
 */
import type { ServerResponse } from 'node:http';
import { Type } from 'typebox';
import type { BindEvents, BindSupervisor, HealthTransition } from '../../binds/bind.js';
import type { MessageStatusChange } from '../../bridge/ports.js';
import { bindSummary } from '../bind-views.js';
import type { App, RouteContext } from '../context.js';
import { errorResponses } from '../schemas/common.js';

function frame(event: string, data: unknown): string {
  return `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
}

export function registerEventRoutes(app: App, ctx: RouteContext): void {
  const { registry, since } = ctx;
  /** Open streams and how to tear each down. */
  const open = new Map<ServerResponse, () => void>();
  /** The open streams that also want `event: bind` frames (a subset of open). */
  const withBinds = new Set<ServerResponse>();
  const bindFrame = (bind: BindSupervisor, probe: BindEvents['probe'][0] | null): string => {
    const counts = bind.metricsCounts();
    return frame('bind', {
      ...bindSummary(bind, since, (id) => registry.ownerOf(id)),
      probesSent: counts.probesSent,
      probesFailed: counts.probesFailed,
      reconnects: counts.reconnects,
      probe:
        probe === null
          ? null
          : {
              ok: probe.ok,
              rttMs: 'rttMs' in probe ? probe.rttMs : null,
              trigger: probe.trigger,
              at: new Date(probe.at).toISOString(),
            },
    });
  };
  const fanOutBind = (bindId: string, probe: BindEvents['probe'][0] | null): void => {
    if (withBinds.size === 0) return;
    const bind = registry.get(bindId);
    if (bind === undefined) return;
    const text = bindFrame(bind, probe);
    for (const res of withBinds) res.write(text);
  };
  const onProbe = (p: BindEvents['probe'][0]): void => fanOutBind(p.bindId, p);
  const fanOut = (t: HealthTransition): void => {
    const text = frame('transition', {
      bindId: t.bindId,
      from: t.from,
      to: t.to,
      code: t.code,
      reason: t.reason,
      at: t.at,
    });
    for (const res of open.keys()) res.write(text);
    fanOutBind(t.bindId, null);
  };
  // Message status changes (when the message path runs): one listener while streams are open.
  const fanOutMessage = (c: MessageStatusChange): void => {
    const text = frame('message', {
      id: c.message.id,
      clientRef: c.message.clientRef,
      route: c.message.route,
      previous: c.previous,
      status: c.status,
      error: c.message.error,
      sequence: c.sequence,
      at: new Date(c.at).toISOString(),
    });
    for (const res of open.keys()) res.write(text);
  };
  let stopMessages: (() => void) | null = null;
  const follow = (res: ServerResponse, cleanup: () => void, binds: boolean): void => {
    if (open.size === 0) {
      registry.on('transition', fanOut);
      stopMessages = ctx.messagePath?.onStatusChange?.(fanOutMessage) ?? null;
    }
    open.set(res, cleanup);
    if (!binds) return;
    if (withBinds.size === 0) registry.on('probe', onProbe);
    withBinds.add(res);
  };
  const forget = (res: ServerResponse): boolean => {
    if (!open.delete(res)) return false;
    if (open.size === 0) {
      registry.off('transition', fanOut);
      stopMessages?.();
      stopMessages = null;
    }
    if (withBinds.delete(res) && withBinds.size === 0) registry.off('probe', onProbe);
    return true;
  };

  app.addHook('preClose', async () => {
    for (const [res, cleanup] of [...open]) {
      cleanup();
      res.end();
    }
  });

  app.get(
    '/events',
    {
      schema: {
        operationId: 'streamEvents',
        summary: 'Health transitions as server-sent events',
        description: [
          'A text/event-stream. First `event: snapshot` with every bind as it is now (data: Snapshot),',
          'then `event: transition` for each status change (data: Transition), `event: message` for each',
          'message status change when the message path runs (data: { id, clientRef, route, previous, status,',
          'error, sequence, at }), and a `: heartbeat` comment',
          'every 15 s. Try: curl -N http://localhost:8080/events',
        ].join(' '),
        tags: ['events'],
        security: [{}, { bearerAuth: [] }],
        querystring: Type.Object({
          binds: Type.Optional(
            Type.Boolean({
              default: false,
              description:
                "Also send `event: bind` after every transition and probe of a bind: its summary (as in GET /binds) with probesSent, probesFailed, reconnects and the probe ({ ok, rttMs, trigger, at }, or null after a transition); the snapshot's entries then carry state, lastRttMs and the same counters too. The dashboard uses it.",
            }),
          ),
        }),
        response: {
          200: {
            description: 'The event stream (never ends by itself).',
            content: {
              'text/event-stream': {
                schema: Type.String(),
                examples: {
                  stream: {
                    summary: 'A snapshot, then a transition',
                    value:
                      'event: snapshot\ndata: {"binds":[{"id":"main","status":"healthy","code":"OK","reason":"bound and answering enquire_link","since":"2025-01-01T12:00:00.000Z"}],"at":"2025-01-01T12:00:05.000Z"}\n\nevent: transition\ndata: {"bindId":"main","from":"healthy","to":"unhealthy","code":"NOT_BOUND","reason":"session closed: peer_close","at":"2025-01-01T12:01:00.000Z"}\n\n: heartbeat\n\n',
                  },
                },
              },
            },
          },
          ...errorResponses('UNAUTHORIZED', 'INTERNAL_ERROR'),
        },
      },
    },
    (request, reply) => {
      const res = reply.raw;
      reply.hijack();
      res.writeHead(200, {
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const withBindFrames = request.query.binds === true;
      const binds = registry.list().map((bind) => {
        const verdict = bind.refreshHealth();
        const entry = {
          id: bind.id,
          status: verdict.status,
          code: verdict.code,
          reason: verdict.reason,
          since: since.get(bind),
        };
        if (!withBindFrames) return entry;
        // The dashboard's snapshot: also what its rows show, so a (re)connect resynchronises them.
        const counts = bind.metricsCounts();
        return {
          ...entry,
          state: bind.state,
          lastRttMs: bind.lastRttMs,
          probesSent: counts.probesSent,
          probesFailed: counts.probesFailed,
          reconnects: counts.reconnects,
        };
      });
      // With binds=true (the dashboard) it also says whether `event: message` can come.
      const snapshot = withBindFrames
        ? { binds, messages: ctx.messagePath !== null, at: new Date().toISOString() }
        : { binds, at: new Date().toISOString() };
      res.write(frame('snapshot', snapshot));
      const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), ctx.sseHeartbeatMs);
      heartbeat.unref();
      const startedAt = performance.now();
      request.log.info({ remoteAddress: request.ip }, 'events stream opened');
      const cleanup = (): void => {
        if (!forget(res)) return;
        clearInterval(heartbeat);
        request.log.info({ durationMs: Math.round(performance.now() - startedAt) }, 'events stream closed');
      };
      follow(res, cleanup, withBindFrames);
      res.on('close', cleanup);
      res.on('error', cleanup);
    },
  );
}
