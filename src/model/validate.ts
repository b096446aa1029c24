/**
 * Rules an event must meet beyond its Avro schema. Shared by HTTP ingest (400
 * with every reason) and the accept processor (dead letter with every reason).
 */
import type { NotificationEvent } from './notification.ts';

const TYPE_PATTERN = /^[a-z][a-z0-9_.-]{0,99}$/;
/** roles and topics */
const NAME_PATTERN = /^[a-z0-9][a-z0-9_.-]{0,99}$/;
const LIMITS = { title: 200, message: 5_000, data: 64 * 1024, id: 200, audience: 10_000 } as const; // characters, recipients

/** Every way `event` breaks the rules, as "field: reason"; empty when it is fine. */
export function eventViolations(event: NotificationEvent): string[] {
  const reasons: string[] = [];
  const required = (field: string, value: string, max: number) => {
    if (value.trim().length === 0) reasons.push(`${field}: must not be empty`);
    else if (value.length > max) reasons.push(`${field}: longer than ${max} characters`);
  };
  const audience = event.audience?.user_ids ?? [];
  const groups = [...(event.audience?.roles ?? []), ...(event.audience?.topics ?? [])];
  if (event.user_id !== null && audience.length + groups.length > 0) reasons.push('audience: give either user_id or audience, not both');
  else if (event.user_id === null && audience.length + groups.length === 0) reasons.push('user_id: needed, or an audience with at least one user id, role or topic');
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
  if (event.data !== null) {
    if (event.data.length > LIMITS.data) reasons.push(`data: larger than ${LIMITS.data} characters`);
    else if (!isJsonObject(event.data)) reasons.push('data: must be a JSON object');
  }
  if (event.action_url !== null && !isHttpUrl(event.action_url)) reasons.push('action_url: must be an http(s) URL');
  if (!Number.isSafeInteger(event.occurred_at) || event.occurred_at <= 0) reasons.push('occurred_at: must be a positive time in ms');
  return reasons;
}

function isJsonObject(text: string): boolean {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
}

function isHttpUrl(text: string): boolean {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:';
  } catch {
    return false;
  }
}
