/**
 * Rules an event must meet beyond its Avro schema. Shared by HTTP ingest (400
 * with every reason) and the dedupe processor (dead letter with every reason).
 * Whatever passes is safe for the later stages: JSON.stringify of `data` (which
 * recurses) and Postgres text and jsonb columns (which refuse U+0000).
 */
import { timingViolations } from './timer.ts';
import type { NotificationEvent } from './notification.ts';
import { typeInfo, withCatalogueDefaults } from './catalogue.ts';
import { dataViolations, isHttpUrl } from './data-schema.ts';

const TYPE_PATTERN = /^[a-z][a-z0-9_.-]{0,99}$/;
/** roles and topics */
const NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,99}$/;
const LIMITS = { title: 200, message: 5_000, data: 64 * 1024, id: 200, audience: 10_000 } as const; // characters, recipients
/** Levels of objects and arrays `data` may nest: `{}` is 1, `{"a":[1]}` is 2. */
export const MAX_DATA_DEPTH = 32;
/** An unpaired UTF-16 surrogate: jsonb refuses its \u escape. */
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/**
 * Every way `event` breaks the rules, as "field: reason"; empty when it is
 * fine. The rules include the type's data schema (src/model/catalogue.ts),
 * and recipients are judged after the type's defaults (withCatalogueDefaults),
 * so an access_denied event naming nobody is valid.
 */
export function eventViolations(input: NotificationEvent): string[] {
  const event = withCatalogueDefaults(input);
  const reasons: string[] = [];
  const required = (field: string, value: string, max: number) => {
    if (value.includes('\u0000')) reasons.push(`${field}: must not contain U+0000`);
    // Ids make up the source key, whose UUIDv5 (stableId) cannot encode an unpaired surrogate.
    else if (LONE_SURROGATE.test(value)) reasons.push(`${field}: must not contain unpaired surrogates`);
    else if (value.trim().length === 0) reasons.push(`${field}: must not be empty`);
    else if (value.length > max) reasons.push(`${field}: longer than ${max} characters`);
  };
  const audience = event.audience?.user_ids ?? [];
  const groups = [...(event.audience?.roles ?? []), ...(event.audience?.topics ?? []), ...(event.audience?.all ? ['all'] : [])];
  if (event.user_id !== null && audience.length + groups.length > 0) reasons.push('audience: give either user_id or audience, not both');
  else if (event.user_id === null && audience.length + groups.length === 0) reasons.push('user_id: needed, or an audience with at least one user id, role or topic, or all');
  for (const [field, names] of [['roles', event.audience?.roles ?? []], ['topics', event.audience?.topics ?? []]] as const) {
    names.forEach((name, i) => { if (!NAME_PATTERN.test(name)) reasons.push(`audience.${field}.${i}: must be lower-case letters, digits, "_", "-" or "." (at most 100)`); });
  }
  if (event.user_id !== null) required('user_id', event.user_id, LIMITS.id);
  if (audience.length > LIMITS.audience) reasons.push(`audience.user_ids: more than ${LIMITS.audience} recipients`);
  audience.forEach((id, i) => required(`audience.user_ids.${i}`, id, LIMITS.id));
  required('source_type', event.source_type, LIMITS.id);
  required('source_id', event.source_id, LIMITS.id);
  required('title', event.title, LIMITS.title);
  if (!TYPE_PATTERN.test(event.type)) reasons.push('type: must be lower-case letters, digits, "_", "-" or "." and start with a letter (at most 100)');
  if (event.message.length > LIMITS.message) reasons.push(`message: longer than ${LIMITS.message} characters`);
  if (event.message.includes('\u0000')) reasons.push('message: must not contain U+0000');
  if (event.event_id?.includes('\u0000')) reasons.push('event_id: must not contain U+0000');
  if (event.data !== null) {
    const problem = event.data.length > LIMITS.data ? `larger than ${LIMITS.data} characters` : dataProblem(event.data);
    if (problem) reasons.push(`data: ${problem}`);
    else reasons.push(...typeDataViolations(event.type, event.data));
  } else {
    reasons.push(...typeDataViolations(event.type, '{}'));
  }
  if (event.action_url !== null && (event.action_url.includes('\u0000') || !isHttpUrl(event.action_url))) reasons.push('action_url: must be an http(s) URL');
  if (!Number.isSafeInteger(event.occurred_at) || event.occurred_at <= 0) reasons.push('occurred_at: must be a positive time in ms');
  reasons.push(...timingViolations(event));
  return reasons;
}

/** How JSON object text `data` breaks the data schema of `type`, if the type has one. */
function typeDataViolations(type: string, data: string): string[] {
  const schema = typeInfo(type).data;
  return schema ? dataViolations(schema, JSON.parse(data) as Record<string, unknown>) : [];
}

/** Why JSON text `text` cannot be an event's `data`, if it cannot. */
function dataProblem(text: string): string | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text); // V8 parses without recursion, however deep
  } catch {
    return 'must be a JSON object';
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'must be a JSON object';
  if (nestsDeeperThan(value, MAX_DATA_DEPTH)) return `nested deeper than ${MAX_DATA_DEPTH} levels`;
  if (!storableInJsonb(value)) return 'must not contain U+0000 or unpaired surrogates (Postgres cannot store them)';
  return undefined;
}

/**
 * Whether parsed JSON `value` has objects or arrays nested more than `max`
 * levels (`{}` is 1). Walks without recursion, so any depth is safe to ask about.
 */
export function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  for (let next = stack.pop(); next; next = stack.pop()) {
    const [item, depth] = next;
    if (typeof item !== 'object' || item === null) continue;
    if (depth > max) return true;
    for (const child of Object.values(item)) stack.push([child, depth + 1]);
  }
  return false;
}

/** Whether every key and string of parsed JSON `value` fits a jsonb column. */
function storableInJsonb(value: unknown): boolean {
  const bad = (text: string) => text.includes('\u0000') || LONE_SURROGATE.test(text);
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const item = stack.pop();
    if (typeof item === 'string' && bad(item)) return false;
    if (typeof item !== 'object' || item === null) continue;
    for (const [key, child] of Object.entries(item)) {
      if (bad(key)) return false;
      stack.push(child);
    }
  }
  return true;
}
