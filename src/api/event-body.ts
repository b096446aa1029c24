/**
 * The JSON body of POST /v1/events → a NotificationEvent, with every reason it
 * cannot be one. JSON is friendlier than Avro's shapes: `data` is an object,
 * `occurred_at` an ISO time or ms (default: now), `deliver_at` and
 * `expires_at` ISO times or ms, optional fields may be left out.
 * The type's defaults apply (withCatalogueDefaults): an access_denied event
 * naming nobody is produced with the security_admin audience.
 */
import { schemaViolations } from '../kafka/codec.ts';
import type { NotificationEvent } from '../model/notification.ts';
import { eventViolations, MAX_DATA_DEPTH, nestsDeeperThan } from '../model/validate.ts';
import { withCatalogueDefaults } from '../model/catalogue.ts';

export type BodyResult = { ok: true; event: NotificationEvent } | { ok: false; reasons: string[] };

export function eventFromBody(body: unknown, now: number): BodyResult {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return { ok: false, reasons: ['body: must be a JSON object'] };
  const input = body as Record<string, unknown>;
  // First: everything below may recurse into the values (JSON.stringify does), and a
  // hostile body nests thousands of levels deep. No field needs more depth than data.
  const tooDeep = Object.entries(input).filter(([, value]) => nestsDeeperThan(value, MAX_DATA_DEPTH));
  if (tooDeep.length > 0) return { ok: false, reasons: tooDeep.map(([field]) => `${field}: nested deeper than ${MAX_DATA_DEPTH} levels`) };
  const reasons: string[] = [];

  let data: string | null = null;
  if (input.data !== undefined && input.data !== null) {
    if (typeof input.data === 'object' && !Array.isArray(input.data)) data = JSON.stringify(input.data);
    else reasons.push('data: must be a JSON object');
  }

  /** An ISO 8601 time as ms; on failure `fallback` stays as a placeholder, so the schema check does not report the field a second time. */
  const time = (field: 'occurred_at' | 'deliver_at' | 'expires_at', fallback: unknown): unknown => {
    const value = input[field];
    if (typeof value !== 'string') return value === undefined ? fallback : value;
    const parsed = Date.parse(value);
    if (!Number.isNaN(parsed)) return parsed;
    reasons.push(`${field}: not an ISO 8601 time`);
    return fallback;
  };
  const occurredAt = time('occurred_at', now);

  const candidate = {
    ...input,
    event_id: input.event_id ?? null,
    user_id: input.user_id ?? null,
    audience: withAudienceDefaults(input.audience),
    action_url: input.action_url ?? null,
    severity: input.severity ?? 'info',
    data,
    occurred_at: occurredAt,
    deliver_at: time('deliver_at', null),
    expires_at: time('expires_at', null),
  };
  reasons.push(...schemaViolations('NotificationEvent', candidate));
  if (reasons.length > 0) return { ok: false, reasons };

  const event = candidate as NotificationEvent;
  const rules = eventViolations(event);
  return rules.length > 0 ? { ok: false, reasons: rules } : { ok: true, event: withCatalogueDefaults(event) };
}

/** An audience object may leave out the lists it does not use, as the Avro defaults allow. */
function withAudienceDefaults(audience: unknown): unknown {
  if (typeof audience !== 'object' || audience === null || Array.isArray(audience)) return audience ?? null;
  return { user_ids: [], roles: [], topics: [], all: false, ...audience };
}
