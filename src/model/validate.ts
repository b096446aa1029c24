/**
 * Rules an event must meet beyond its Avro schema. Shared by HTTP ingest (400
 * with every reason) and the accept processor (dead letter with every reason).
 */
import type { NotificationEvent } from './notification.ts';

const TYPE_PATTERN = /^[a-z][a-z0-9_.-]{0,99}$/;
const LIMITS = { title: 200, message: 5_000, data: 64 * 1024, id: 200 } as const; // characters

/** Every way `event` breaks the rules, as "field: reason"; empty when it is fine. */
export function eventViolations(event: NotificationEvent): string[] {
  const reasons: string[] = [];
  const required = (field: 'user_id' | 'source_type' | 'source_id' | 'title', max: number) => {
    const value = event[field];
    if (value.trim().length === 0) reasons.push(`${field}: must not be empty`);
    else if (value.length > max) reasons.push(`${field}: longer than ${max} characters`);
  };
  required('user_id', LIMITS.id);
  required('source_type', LIMITS.id);
  required('source_id', LIMITS.id);
  required('title', LIMITS.title);
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
