/** Schemas of the process-level endpoints: liveness, readiness, and the events stream. */
import { Type } from 'typebox';
import { HEALTH_CODES, HEALTH_STATUSES } from './bind.js';
import { StringEnum } from './common.js';
import { EXAMPLE_LIVE, EXAMPLE_READY } from './examples.js';

export const READINESS_POLICIES = ['all', 'any', 'quorum', 'atLeast'] as const;

export const ReadinessSchema = Type.Object(
  {
    ready: Type.Boolean(),
    draining: Type.Boolean({ description: 'True once shutdown began: readiness fails at once.' }),
    policy: StringEnum(READINESS_POLICIES),
    strict: Type.Boolean({ description: 'Whether degraded binds count as failing.' }),
    required: Type.Integer({ minimum: 0, description: 'How many passing binds the policy needs.' }),
    healthy: Type.Integer({ minimum: 0, description: 'How many binds pass.' }),
    total: Type.Integer({ minimum: 0 }),
    binds: Type.Array(
      Type.Object(
        { id: Type.String(), status: StringEnum(HEALTH_STATUSES), reason: Type.String() },
        { additionalProperties: false },
      ),
    ),
    store: Type.Optional(
      Type.Object(
        {
          ok: Type.Boolean({
            description: 'The message store accepted a write at its last check (every 5 s).',
          }),
          error: Type.Optional(Type.String()),
        },
        {
          additionalProperties: false,
          description: 'Present when the message path runs; not ok = not ready.',
        },
      ),
    ),
  },
  {
    $id: 'Readiness',
    title: 'Readiness',
    additionalProperties: false,
    examples: [EXAMPLE_READY],
  },
);

const delay = Type.Number({ minimum: 0 });

export const LivenessSchema = Type.Object(
  {
    status: StringEnum(['ok', 'stalled'] as const),
    eventLoopDelayMs: Type.Object(
      { mean: delay, p50: delay, p99: delay, max: delay },
      {
        additionalProperties: false,
        description: 'Event-loop delay over the current and the previous measuring window.',
      },
    ),
    maxEventLoopDelayMs: Type.Number({
      description: 'Above this the loop counts as stalled and /livez answers 503.',
    }),
    uptimeSeconds: Type.Number(),
  },
  {
    $id: 'Liveness',
    title: 'Liveness',
    additionalProperties: false,
    examples: [EXAMPLE_LIVE],
  },
);

export const TransitionSchema = Type.Object(
  {
    bindId: Type.String(),
    from: StringEnum(HEALTH_STATUSES),
    to: StringEnum(HEALTH_STATUSES),
    code: StringEnum(HEALTH_CODES),
    reason: Type.String(),
    at: Type.String({ format: 'date-time' }),
  },
  {
    $id: 'Transition',
    title: 'Transition',
    description: 'The data of an `event: transition` on GET /events.',
    additionalProperties: false,
  },
);

export const SnapshotSchema = Type.Object(
  {
    binds: Type.Array(
      Type.Object(
        {
          id: Type.String(),
          status: StringEnum(HEALTH_STATUSES),
          code: StringEnum(HEALTH_CODES),
          reason: Type.String(),
          since: Type.String({ format: 'date-time' }),
        },
        { additionalProperties: false },
      ),
    ),
    messages: Type.Optional(
      Type.Boolean({
        description:
          'With binds=true: whether this process runs the message path (then `event: message` follows status changes, and GET /messages/stats answers).',
      }),
    ),
    at: Type.String({ format: 'date-time' }),
  },
  {
    $id: 'Snapshot',
    title: 'Snapshot',
    description: 'The data of the first `event: snapshot` on GET /events: every bind as it is now.',
    additionalProperties: false,
  },
);
