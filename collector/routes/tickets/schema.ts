/** Request schemas of the ticket API. */
import { Type } from '@sinclair/typebox';
import { SEVERITIES, STATUSES, TICKET_KINDS } from '../../tickets/policy.js';

const enumOf = (values: readonly string[]) => Type.Unsafe<string>({ type: 'string', enum: [...values] });

export const NumberParams = Type.Object({ number: Type.String({ pattern: '^[A-Z]{2,5}-\\d{4}-\\d{4,}$' }) });

export const ListQuery = Type.Object(
  {
    status: Type.Optional(
      Type.String({ description: 'comma-separated statuses, or "active" (open,acknowledged)' }),
    ),
    kind: Type.Optional(enumOf(TICKET_KINDS)),
    severity: Type.Optional(enumOf(SEVERITIES)),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);

export const OpenBody = Type.Object(
  {
    kind: enumOf(TICKET_KINDS),
    severity: Type.Optional(enumOf(SEVERITIES)),
    title: Type.String({ minLength: 1, maxLength: 500 }),
    description: Type.Optional(Type.String({ maxLength: 20_000 })),
    host: Type.Optional(Type.String({ maxLength: 200 })),
    service: Type.Optional(Type.String({ maxLength: 200 })),
    assignee: Type.Optional(Type.String({ maxLength: 200 })),
    labels: Type.Optional(Type.Record(Type.String(), Type.String())),
    /** When the matter was received (an objection letter's date), ISO 8601; defaults to now. */
    receivedAt: Type.Optional(Type.String({ format: 'date-time' })),
  },
  { additionalProperties: false },
);

export const NoteBody = Type.Object(
  { note: Type.Optional(Type.String({ maxLength: 20_000 })) },
  { additionalProperties: false },
);
export const CommentBody = Type.Object(
  { text: Type.String({ minLength: 1, maxLength: 20_000 }) },
  { additionalProperties: false },
);
export const AssignBody = Type.Object(
  { assignee: Type.Union([Type.String({ minLength: 1, maxLength: 200 }), Type.Null()]) },
  { additionalProperties: false },
);
export const AtBody = Type.Object(
  { at: Type.Optional(Type.String({ format: 'date-time' })) },
  { additionalProperties: false },
);

export { STATUSES };
