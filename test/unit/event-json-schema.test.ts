/** The documented body of POST /v1/events follows the NotificationEvent Avro schema. */
import { describe, expect, it } from 'vitest';
import { readSchema } from '../../src/kafka/codec.ts';
import { eventBodyJsonSchema } from '../../src/api/event-json-schema.ts';
import { createHttpServer } from '../../src/api/server.ts';
import { eventRoutes } from '../../src/api/events.ts';
import { createAuthenticator } from '../../src/auth.ts';
import { createLogger } from '../../src/logger.ts';
import type { Publisher } from '../../src/kafka/publisher.ts';

interface Field { name: string; type: unknown; default?: unknown }
type Schema = { properties: Record<string, Schema>; required?: string[]; additionalProperties?: boolean; [key: string]: unknown };

const avro = readSchema('NotificationEvent') as { fields: Field[] };
const audienceRecord = (avro.fields.find((f) => f.name === 'audience')!.type as unknown[])[1] as { fields: Field[] };

describe('eventBodyJsonSchema', () => {
  const schema = eventBodyJsonSchema() as Schema;

  it('lists every field of the Avro record, and no other', () => {
    expect(Object.keys(schema.properties)).toEqual(avro.fields.map((f) => f.name));
    expect(Object.keys(schema.properties.audience!.properties)).toEqual(audienceRecord.fields.map((f) => f.name));
    expect(schema.additionalProperties).toBe(false);
  });

  it('requires the fields without an Avro default, except occurred_at (now when left out)', () => {
    expect(schema.required).toEqual(avro.fields.filter((f) => f.default === undefined && f.name !== 'occurred_at').map((f) => f.name));
    expect(schema.properties.audience!.required).toBeUndefined();
  });

  it('shows the JSON conveniences: data an object, occurred_at an ISO time or ms, severity an enum', () => {
    expect(schema.properties.data).toMatchObject({ type: ['object', 'null'] });
    expect(schema.properties.occurred_at).toMatchObject({ anyOf: [{ type: 'string', format: 'date-time' }, { type: 'integer' }] });
    expect(schema.properties.severity).toMatchObject({ type: 'string', enum: ['info', 'success', 'warning', 'error', 'critical', 'low', 'medium', 'high'], default: 'info' });
    expect(schema.properties.user_id).toMatchObject({ type: ['string', 'null'], default: null });
  });

  it('documents the data schema of each catalogue type that has one, by title', () => {
    const branches = (schema.properties.data as unknown as { anyOf: { title?: string; required?: string[]; properties?: Record<string, Schema> }[] }).anyOf;
    expect(branches.map((b) => b.title)).toEqual(['workflow_approval', 'workflow_approval_answered', 'access_denied', 'any other type', undefined]);
    const denial = branches.find((b) => b.title === 'access_denied')!;
    expect(denial.required).toEqual(['checkpointCode', 'reason']);
    expect(denial.properties!.reason).toMatchObject({ type: 'string', enum: ['SIGNATURE_INVALID', 'TOKEN_INVALID', 'REPLAY', 'ACCESS_DENIED', 'STATE_MISMATCH', 'INTERNAL_ERROR'] });
    expect(denial.properties!.checkpointId).toMatchObject({ type: ['string', 'null'], format: 'uuid' });
  });

  it('is the body of POST /v1/events in the OpenAPI document', async () => {
    const publisher = { publish: () => Promise.reject(new Error('not called')) } as unknown as Publisher;
    const app = await createHttpServer({ log: createLogger('silent'), auth: createAuthenticator({ secret: 'x'.repeat(32) }) });
    try {
      await app.register(eventRoutes, { publisher, eventsTopic: 'unused' });
      await app.ready();
      const document = (await app.inject({ method: 'GET', url: '/openapi.json' })).json();
      const body = document.paths['/v1/events'].post.requestBody.content['application/json'].schema;
      expect(Object.keys(body.properties)).toEqual(avro.fields.map((f) => f.name));
      expect(body.required).toEqual(schema.required);
      expect(body.properties.data.anyOf.map((b: { title?: string }) => b.title)).toContain('access_denied');
    } finally {
      await app.close();
    }
  });
});
