/**
 * Nexora's severities and the scheduler's fields evolved NotificationEvent;
 * on the stack's real registry the new schema registers under BACKWARD
 * compatibility over the one before (commit 2237595^, kept as a fixture), a
 * record written with the old schema decodes with the new one, and the check
 * is real: an incompatible change is refused.
 */
import { describe, expect, inject, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { SchemaRegistry, SchemaType, COMPATIBILITY } from '@kafkajs/confluent-schema-registry';
import avro from 'avsc';
import { createCodec, readSchema } from '../../src/kafka/codec.ts';

const before = readFileSync(new URL('./fixtures/notification-event.before-nexora-severities.avsc', import.meta.url), 'utf8');
const now = JSON.stringify(readSchema('NotificationEvent'));

describe('NotificationEvent schema evolution', () => {
  const url = inject('endpoints').schemaRegistryUrl;
  const registry = new SchemaRegistry({ host: url }, { [SchemaType.AVRO]: { wrapUnions: false } });
  const subject = `${inject('runPrefix')}${randomBytes(3).toString('hex')}.notification.events-value`;
  const register = (schema: string) => registry.register({ type: SchemaType.AVRO, schema }, { subject, compatibility: COMPATIBILITY.BACKWARD });
  const old = { event_id: null, user_id: 'u1', audience: null, type: 'job_failed', title: 'T', message: 'M', severity: 'critical', data: null, action_url: null, source_type: 'job', source_id: '1', occurred_at: 1_700_000_000_000 };

  it('registers the evolved schema as BACKWARD-compatible over the previous version, and old records decode with it', async () => {
    const { id: oldId } = await register(before);
    const { id: newId } = await register(now);
    expect(newId).not.toBe(oldId);
    expect(await registry.getLatestSchemaId(subject)).toBe(newId);

    // Written with the old schema, as a producer not yet upgraded would; read with the new one, as Tidings does.
    const written = await registry.encode(oldId, old);
    const codec = createCodec(url);
    expect(await codec.decode('NotificationEvent', written)).toEqual({ ...old, deliver_at: null, delay_ms: null, timer_key: null, cancels: [], expires_at: null });

    // And an old reader takes Nexora's severities as the enum's default, info.
    const [oldReader, newWriter] = [before, now].map((text) => avro.Type.forSchema(JSON.parse(text) as avro.Schema, { wrapUnions: false }));
    const fresh = newWriter!.toBuffer({ ...old, severity: 'high', deliver_at: null, delay_ms: null, timer_key: null, cancels: [], expires_at: null });
    const asOld = oldReader!.fromBuffer(fresh, oldReader!.createResolver(newWriter!)) as { severity: string };
    expect(asOld.severity).toBe('info');
  });

  it('refuses a change that is not BACKWARD-compatible under the same subject (the check is the registry\'s, not a formality)', async () => {
    const broken = JSON.parse(now) as { fields: unknown[] };
    broken.fields.push({ name: 'tenant', type: 'string' }); // new and required: old records have no value for it
    await expect(register(JSON.stringify(broken))).rejects.toThrow(/compatib|409/i);
  });
});
