import { Type, type Static } from 'typebox';

/** The query of a Server-Sent Events route (src/api/services/poll-event-stream.ts). */
export const EventStreamQuerySchema = Type.Object(
  { lastEventId: Type.Optional(Type.String({ pattern: '^\\d{1,18}$', description: 'Same as the Last-Event-ID header, for clients that cannot set headers.' })) },
  { additionalProperties: false },
);
export type EventStreamQuery = Static<typeof EventStreamQuerySchema>;
