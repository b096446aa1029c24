/**
 * The JSON body of POST /v1/events → a NotificationEvent, with every reason it
 * cannot be one. JSON is friendlier than Avro's shapes: `data` is an object,
 * `occurred_at` an ISO time or ms (default: now), optional fields may be left out.
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

  let occurredAt: unknown = now;
  if (typeof input.occurred_at === 'string') {
    const parsed = Date.parse(input.occurred_at);
    // On failure `now` stays as a placeholder, so the schema check does not report the field a second time.
    if (Number.isNaN(parsed)) reasons.push('occurred_at: not an ISO 8601 time');
    else occurredAt = parsed;
  } else if (input.occurred_at !== undefined) {
    occurredAt = input.occurred_at;
  }

  const candidate = {
    ...input,
    event_id: input.event_id ?? null,
    user_id: input.user_id ?? null,
    audience: withAudienceDefaults(input.audience),
    action_url: input.action_url ?? null,
    severity: input.severity ?? 'info',
    data,
    occurred_at: occurredAt,
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
