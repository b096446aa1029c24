/**
 * Events as a producer writes them, checked before they leave: the same rules
 * HTTP ingest and dedupe apply (the Avro schema, then src/model/validate.ts),
 * so a producer learns every reason at once instead of from a dead letter.
 */
import type { KnownType } from '../model/catalogue.ts';
import { eventKey, recipientsOf, sourceKey, type Audience, type NotificationEvent, type Severity } from '../model/notification.ts';
import { eventViolations } from '../model/validate.ts';
import { stableId } from '../model/ids.ts';
import { schemaViolations } from '../kafka/codec.ts';
import { ValidationError } from '../errors.ts';

export type { KnownType };
/** A known type, offered by autocompletion, or any custom type (category "custom"). */
export type EventType = KnownType | (string & Record<never, never>);

/** A time: ms since the epoch, or a Date. */
export type Instant = number | Date;

interface EventFields {
  type: EventType;
  title: string;
  message: string;
  /** default: info */
  severity?: Severity;
  /** type-specific details; written as JSON object text */
  data?: Record<string, unknown>;
  action_url?: string;
  source_type: string;
  source_id: string;
  /** the producer's own id, kept for tracing */
  event_id?: string;
  /** default: now */
  occurred_at?: Instant;
  /** deliver no earlier than this */
  deliver_at?: Instant;
  /** ms after occurred_at to deliver; deliver_at wins */
  delay_ms?: number;
  /** names a delayed event's timer (default: its source key) */
  timer_key?: string;
  /** timer keys of pending delayed events this event cancels */
  cancels?: string[];
  /** after it, the notification leaves the inbox */
  expires_at?: Instant;
}

/**
 * What a producer gives: one recipient (`user_id`), several (`audience`), or
 * neither for a type whose catalogue entry names its audience (access_denied).
 */
export type EventInput = EventFields & (
  | { user_id: string; audience?: undefined }
  | { audience: Partial<Audience>; user_id?: undefined }
  | { user_id?: undefined; audience?: undefined }
);

/** An event ready to send: its wire shape, the key it goes under and the notification id of each named recipient. */
export interface PreparedEvent {
  event: NotificationEvent;
  /** the source key (one recipient) or `source_type:source_id:type:*` (an audience) */
  key: string;
  /** user id → notification id, for user_id and audience.user_ids (roles and topics resolve later, in dedupe) */
  notificationIds: Record<string, string>;
}

/**
 * The NotificationEvent `input` stands for, `now` (ms) filling in occurred_at.
 * Checked by prepareEvents, not here.
 * @throws ValidationError when `data` cannot be written as JSON (cyclic, a BigInt)
 */
export function buildEvent(input: EventInput, now: number): NotificationEvent {
  return {
    event_id: input.event_id ?? null,
    user_id: input.user_id ?? null,
    audience: input.audience ? { user_ids: [], roles: [], topics: [], all: false, ...input.audience } : null,
    type: input.type,
    title: input.title,
    message: input.message,
    severity: input.severity ?? 'info',
    data: input.data === undefined ? null : jsonText(input.data),
    action_url: input.action_url ?? null,
    source_type: input.source_type,
    source_id: input.source_id,
    occurred_at: instant(input.occurred_at) ?? now,
    deliver_at: instant(input.deliver_at) ?? null,
    delay_ms: input.delay_ms ?? null,
    timer_key: input.timer_key ?? null,
    cancels: input.cancels ?? [],
    expires_at: instant(input.expires_at) ?? null,
  };
}

/** Every reason `event` would be refused (schema first, then Tidings' rules); empty when it is fine. */
export function violationsOf(event: NotificationEvent): string[] {
  const schema = schemaViolations('NotificationEvent', event);
  // The rules read fields the schema guarantees; on a schema failure they could only repeat it or throw.
  return schema.length > 0 ? schema : eventViolations(event);
}

/**
 * Builds, checks and keys each input.
 * @throws ValidationError listing every reason of every input, prefixed by its index when there are several
 */
export function prepareEvents(inputs: readonly EventInput[], now: number): PreparedEvent[] {
  const reasons: string[] = [];
  const prepared: PreparedEvent[] = [];
  inputs.forEach((input, i) => {
    let found: readonly string[];
    try {
      const event = buildEvent(input, now);
      found = violationsOf(event);
      if (found.length === 0) prepared.push(keyed(event));
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      found = err.reasons;
    }
    reasons.push(...found.map((reason) => (inputs.length > 1 ? `events.${i}.${reason}` : reason)));
  });
  if (reasons.length > 0) throw new ValidationError(reasons);
  return prepared;
}

function keyed(event: NotificationEvent): PreparedEvent {
  const notificationIds = Object.fromEntries(recipientsOf(event).map((userId) => [userId, stableId(sourceKey(event, userId))]));
  return { event, key: eventKey(event), notificationIds };
}

function instant(value: Instant | undefined): number | undefined {
  return value instanceof Date ? value.getTime() : value;
}

function jsonText(data: Record<string, unknown>): string {
  try {
    return JSON.stringify(data);
  } catch (err) {
    throw new ValidationError([`data: cannot be written as JSON (${(err as Error).message})`], { cause: err });
  }
}
