import { describe, expect, it } from 'vitest';
import { ENDPOINT_DEFAULTS } from '../../src/model/routing.ts';
import { existsSync, readdirSync } from 'node:fs';
import type avro from 'avsc';
import { avroType, readSchema, schemaViolations } from '../../src/kafka/codec.ts';
import { SCHEMAS, TOPICS, delayLabel, topicNames, valueSchemas, type SchemaName, type SchemaValue } from '../../src/kafka/topics.ts';
import { SEVERITIES } from '../../src/model/notification.ts';
import { WEBHOOK_FORMATS } from '../../src/model/routing.ts';

const notification: SchemaValue<'Notification'> = {
  id: 'n-1', user_id: 'u-1', type: 'job_failed', category: 'job', severity: 'error', title: 'Job failed', message: 'It broke.',
  data: '{}', action_url: null, source_type: 'job', source_id: 'j-1', source_key: 'job:j-1:job_failed:u-1', event_id: null,
  occurred_at: 1_700_000_000_000, created_at: 1_700_000_000_001, expires_at: 1_800_000_000_000,
};

/**
 * One value of each schema's TypeScript type. The compiler holds each to its
 * interface (no missing or extra fields); the tests below hold it to the .avsc.
 * Nullable records are filled in, so that their fields are checked too.
 */
const SAMPLES: { [N in SchemaName]: SchemaValue<N> } = {
  NotificationEvent: {
    event_id: 'e-1', user_id: null, audience: { user_ids: ['u-1'], roles: ['admin'], topics: ['releases'], all: false }, type: 'job_failed', title: 'Job failed',
    message: 'It broke.', severity: 'error', data: '{}', action_url: 'https://example.test/jobs/1', source_type: 'job', source_id: 'j-1', occurred_at: 1_700_000_000_000,
    deliver_at: 1_700_000_060_000, delay_ms: 60_000, timer_key: 'agent:a-1:offline', cancels: ['approval:ap-1:escalation'], expires_at: 1_800_000_000_000,
  },
  Notification: notification,
  DedupeEntry: { source_key: 'job:j-1:job_failed:u-1', notification_id: 'n-1', first_seen_at: 1_700_000_000_000 },
  PreferenceSet: { user_id: 'u-1', preferences: [{ type: 'job_failed', in_app: true, email: false, webhook: true }], updated_at: 1_700_000_000_000 },
  Recipient: { user_id: 'u-1', email: 'u1@example.test', display_name: 'U One', locale: 'en', time_zone: 'UTC', roles: ['admin'], topics: ['releases'], updated_at: 1_700_000_000_000 },
  WebhookEndpoints: {
    user_id: 'u-1',
    endpoints: [{ ...ENDPOINT_DEFAULTS, id: 'w-1', url: 'https://example.test/hook', format: 'slack', secret_encrypted: 'c2VjcmV0', enabled: true, types: ['job_failed'] }],
    updated_at: 1_700_000_000_000,
  },
  DeliveryCommand: {
    delivery_id: 'd-1', channel: 'webhook', user_id: 'u-1',
    email: { address: 'u1@example.test', display_name: null, locale: 'en' },
    webhook: {
      endpoint_id: 'w-1', url: 'https://example.test/hook', format: 'generic', secret_encrypted: null, global: false,
      headers: { 'x-team': 'ops' }, timeout_ms: 5_000, previous_secret_encrypted: 'b2xk', previous_secret_expires_at: 1_700_000_000_000,
    },
    attempt: 1, notification, created_at: 1_700_000_000_000,
  },
  AuditEvent: {
    id: 'a-1', notification_id: 'n-1', user_id: 'u-1', type: 'security_mfa_disabled', severity: 'critical', title: 'MFA disabled', message: 'MFA was turned off.',
    data: '{}', source_type: 'login', source_id: 's-1', occurred_at: 1_700_000_000_000, recorded_at: 1_700_000_000_001,
  },
  DeliveryResult: {
    delivery_id: 'd-1', notification_id: 'n-1', user_id: 'u-1', channel: 'webhook', endpoint_id: 'w-1', attempt: 2, outcome: 'retrying',
    status: 503, error: 'the endpoint answered 503', latency_ms: 12, next_attempt_at: 1_700_000_002_000, at: 1_700_000_000_000,
  },
  ReadEvent: { user_id: 'u-1', action: 'read_all', notification_id: 'n-1', before: 1_700_000_000_000, at: 1_700_000_000_001 },
  Timer: {
    timer_key: 'agent-7:offline', state: 'pending', due_at: 1_700_000_300_000, occurred_at: 1_700_000_000_000, at: 1_700_000_000_001,
    event: {
      event_id: null, user_id: 'u-1', audience: null, type: 'agent_offline', title: 'Agent offline', message: 'agent-7 is offline', severity: 'warning', data: null, action_url: null,
      source_type: 'agent', source_id: 'agent-7:s1', occurred_at: 1_700_000_000_000, deliver_at: null, delay_ms: null, timer_key: null, cancels: [], expires_at: null,
    },
  },
  DeadLetterRedrive: {
    dlq_topic: 'notification.delivery.webhook.dlq', partition: 1, offset: '42', redriven_to: 'notification.delivery.webhook', redriven_at: 1_700_000_000_000, by: 'ops-1',
  },
};

/** Every path where `value`'s keys and the Avro records of `type` differ, walking nested records, arrays and unions. */
function keyMismatches(type: avro.Type, value: unknown, path: string): string[] {
  if (value === null || value === undefined) return [];
  if (type.typeName === 'union:unwrapped') {
    const branches = (type as avro.types.UnwrappedUnionType).types.filter((t) => t.typeName !== 'null');
    const fitting = branches.find((t) => t.isValid(value)) ?? branches[0];
    return fitting ? keyMismatches(fitting, value, path) : [];
  }
  if (type.typeName === 'array' && Array.isArray(value)) {
    return value.flatMap((item, i) => keyMismatches((type as avro.types.ArrayType).itemsType, item, `${path}.${i}`));
  }
  if (type.typeName !== 'record' || typeof value !== 'object') return [];
  const fields = (type as avro.types.RecordType).fields;
  const keys = Object.keys(value);
  const declared = fields.map((f) => f.name);
  return [
    ...declared.filter((name) => !keys.includes(name)).map((name) => `${path}.${name}: in the schema, not in the type's sample`),
    ...keys.filter((key) => !declared.includes(key)).map((key) => `${path}.${key}: in the type's sample, not in the schema`),
    ...fields.flatMap((f) => keyMismatches(f.type, (value as Record<string, unknown>)[f.name], `${path}.${f.name}`)),
  ];
}

function enumSymbols(name: SchemaName, field: string): string[] {
  const type = avroType(name) as avro.types.RecordType;
  const fieldType = type.fields.find((f) => f.name === field)?.type;
  return fieldType ? [...(fieldType as avro.types.EnumType).symbols] : [];
}

describe('schema table', () => {
  it.each(Object.keys(SCHEMAS) as SchemaName[])('%s names the record of its .avsc file', (name) => {
    expect(existsSync(new URL(`../../schemas/${SCHEMAS[name].file}`, import.meta.url))).toBe(true);
    expect(readSchema(name)).toMatchObject({ type: 'record', name, namespace: 'io.tidings' });
  });

  it('lists every .avsc file of schemas/', () => {
    const files = readdirSync(new URL('../../schemas/', import.meta.url)).filter((f) => f.endsWith('.avsc'));
    expect(Object.values(SCHEMAS).map((s) => s.file).sort()).toEqual(files.sort());
  });

  it.each(Object.keys(SCHEMAS) as SchemaName[])('the TypeScript type of %s has exactly the fields of its schema, nested records too', (name) => {
    expect(keyMismatches(avroType(name), SAMPLES[name], name)).toEqual([]);
    expect(schemaViolations(name, SAMPLES[name])).toEqual([]);
    const bytes = avroType(name).toBuffer(SAMPLES[name]);
    expect(avroType(name).fromBuffer(bytes)).toEqual(SAMPLES[name]);
  });

  it('notices a field the type adds or drops, in a nested record too', () => {
    const endpoint = SAMPLES.WebhookEndpoints.endpoints[0];
    const { enabled: _dropped, ...rest } = endpoint ?? { enabled: true };
    const drifted = { ...SAMPLES.WebhookEndpoints, endpoints: [{ ...rest, extra: 1 }] };
    expect(keyMismatches(avroType('WebhookEndpoints'), drifted, 'WebhookEndpoints')).toEqual([
      'WebhookEndpoints.endpoints.0.enabled: in the schema, not in the type\'s sample',
      'WebhookEndpoints.endpoints.0.extra: in the type\'s sample, not in the schema',
    ]);
  });

  it('spells the enums of the model as the schemas do', () => {
    expect(enumSymbols('NotificationEvent', 'severity')).toEqual([...SEVERITIES]);
    expect(enumSymbols('Notification', 'severity')).toEqual([...SEVERITIES]);
    expect(enumSymbols('ReadEvent', 'action')).toEqual(['read', 'read_all', 'archive']);
    expect(enumSymbols('DeliveryCommand', 'channel')).toEqual(['email', 'webhook']);
    const endpoint = ((avroType('WebhookEndpoints') as avro.types.RecordType).fields[1]?.type as avro.types.ArrayType).itemsType as avro.types.RecordType;
    expect([...(endpoint.fields.find((f) => f.name === 'format')?.type as avro.types.EnumType).symbols]).toEqual([...WEBHOOK_FORMATS]);
  });

  it('registers every topic whose value is a schema, under its own name, and no other', () => {
    const names = topicNames('t.');
    const tiers = { deliveryWebhookRetry: [1_000, 4_000, 4_000, 300_000], deliveryEmailRetry: [1_000, 4_000, 300_000] };
    const registered = valueSchemas(names, undefined, tiers);
    const expected = Object.entries(TOPICS).filter(([, spec]) => spec.value in SCHEMAS).flatMap(([key, spec]): { topic: string; schema: string }[] => ('tiered' in spec
      ? ['1s', '4s', '5m'].map((delay) => ({ topic: `${names[key as keyof typeof names]}.${delay}`, schema: spec.value }))
      : [{ topic: names[key as keyof typeof names], schema: spec.value }]));
    expect(registered).toEqual(expected);
    expect(registered.map((r) => r.topic)).not.toContain(names.eventsDlq);
    expect(registered.map((r) => r.topic)).toContain('t.notification.delivery.webhook.retry.4s');
    expect(valueSchemas(names, ['events'])).toEqual([{ topic: 't.notification.events', schema: 'NotificationEvent' }]);
  });

  it('names retry tiers by their delay, in the largest whole unit', () => {
    expect([250, 1_000, 90_000, 120_000, 7_200_000].map(delayLabel)).toEqual(['250ms', '1s', '90s', '2m', '2h']);
    expect(() => delayLabel(0)).toThrow(RangeError);
  });
});
