/**
 * Access denials (the access-control seed): the `data` of an `access_denied`
 * event is the seed's DenialNotification record, field for field, and a
 * generic webhook receives exactly that record, as the seed's webhook sender
 * would POST it.
 */
import type { DataSchema, FieldSchema } from './data-schema.ts';
import type { Notification } from './notification.ts';

export const DENIAL_REASONS = ['SIGNATURE_INVALID', 'TOKEN_INVALID', 'REPLAY', 'ACCESS_DENIED', 'STATE_MISMATCH', 'INTERNAL_ERROR'] as const;
export type DenialReason = (typeof DENIAL_REASONS)[number];

/** The seed's DenialNotification; optional fields may be null there, so they may be here. */
export interface DenialNotification {
  eventId?: string | null;
  checkpointId?: string | null;
  checkpointCode: string;
  userId?: string | null;
  userCode?: string | null;
  fromZoneId?: string | null;
  fromZoneCode?: string | null;
  toZoneId?: string | null;
  toZoneCode?: string | null;
  reason: DenialReason;
  details?: string | null;
  /** ms since the epoch */
  timestamp?: number;
}

const text = (description: string): FieldSchema => ({ type: 'string', maxLength: 200, nullable: true, description });
const uuid = (description: string): FieldSchema => ({ type: 'string', format: 'uuid', nullable: true, description });

export const DENIAL_DATA: DataSchema = {
  type: 'object',
  description: 'The access-control system\'s DenialNotification.',
  properties: {
    eventId: text('the denial event\'s id'),
    checkpointId: uuid('the checkpoint'),
    checkpointCode: { type: 'string', maxLength: 200, description: 'the checkpoint\'s code' },
    userId: uuid('the person denied'),
    userCode: text('the person\'s code'),
    fromZoneId: uuid('the zone left'),
    fromZoneCode: text('the zone left, by code'),
    toZoneId: uuid('the zone entered'),
    toZoneCode: text('the zone entered, by code'),
    reason: { type: 'string', enum: DENIAL_REASONS, description: 'why access was denied' },
    details: { type: 'string', maxLength: 2_000, nullable: true, description: 'more on the denial' },
    timestamp: { type: 'integer', minimum: 0, description: 'ms since the epoch; the event\'s occurred_at when left out' },
  },
  required: ['checkpointCode', 'reason'],
  // The record is the seed's, field for field: a misspelt `checkpoint_code` is refused, not passed on.
  additionalProperties: false,
};

/**
 * The DenialNotification of an `access_denied` notification, every field in
 * the seed's order (null when unknown, as the seed's JSON writes them):
 * its data, with `timestamp` (the seed fills it automatically) from
 * occurred_at and `eventId` from the event's id when the data has none.
 */
export function denialNotificationOf(n: Pick<Notification, 'data' | 'event_id' | 'occurred_at'>): DenialNotification {
  const data = parseObject(n.data) as Partial<DenialNotification>;
  const filled: Partial<DenialNotification> = { ...data, eventId: data.eventId ?? n.event_id, timestamp: data.timestamp ?? n.occurred_at };
  const order = Object.keys(DENIAL_DATA.properties) as (keyof DenialNotification)[];
  return Object.fromEntries(order.map((k) => [k, filled[k] ?? null])) as unknown as DenialNotification;
}

/** A notification accepted before its type had a data schema may hold anything; that reads as no fields. */
function parseObject(text: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? value as Record<string, unknown> : {};
  } catch {
    return {};
  }
}
