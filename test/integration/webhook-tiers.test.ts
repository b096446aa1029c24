/**
 * A retry tier that the schedule no longer names: a delivery waiting in
 * `notification.delivery.webhook.retry.7s` when the operator changed
 * TIDINGS_WEBHOOK_RETRY_SCHEDULE to 200ms is still attempted once due, on the
 * real stack, by a Tidings started with the new schedule.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { createCodec } from '../../src/kafka/codec.ts';
import { createTopicsAndWait, topicNames } from '../../src/kafka/client.ts';
import { ATTEMPT_HEADER, DUE_AT_HEADER } from '../../src/processors/delivery/adapter.ts';
import type { DeliveryCommand, DeliveryResult } from '../../src/model/routing.ts';
import { isolatedSettings, readTopic, startWith, waitFor, type Harness } from './harness.ts';
import { startReceiver, type Receiver } from './receivers.ts';

describe('retry tiers of a former schedule', () => {
  let h: Harness | undefined;
  let receiver: Receiver | undefined;
  afterAll(async () => {
    await h?.stop();
    await receiver?.close();
  });

  it('delivers what waits in a tier topic the schedule no longer names', async () => {
    receiver = await startReceiver('127.0.0.2');
    const settings = await isolatedSettings({
      TIDINGS_ROLES: 'api,projector,webhook', TIDINGS_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.2/32', TIDINGS_WEBHOOK_RETRY_SCHEDULE: '200ms',
      LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error',
    });
    const topics = topicNames(settings.env.TIDINGS_TOPIC_PREFIX!);
    const oldTier = `${topics.deliveryWebhookRetry}.7s`;
    const kafka = new Kafka({ clientId: 'test-tiers', brokers: settings.endpoints.kafkaBrokers, logLevel: logLevel.NOTHING });
    const admin = kafka.admin();
    await admin.connect();
    await createTopicsAndWait(admin, [{ topic: oldTier, numPartitions: 2, replicationFactor: 1 }]);
    await admin.disconnect();
    const codec = createCodec(settings.endpoints.schemaRegistryUrl);
    await codec.register([{ topic: oldTier, schema: 'DeliveryCommand' }]);
    const user = `u-${randomUUID()}`;
    const now = Date.now();
    const command: DeliveryCommand = {
      delivery_id: randomUUID(), channel: 'webhook', user_id: user, email: null, attempt: 2, created_at: now,
      webhook: {
        endpoint_id: 'global', url: `${receiver.url}/former-tier`, format: 'generic', secret_encrypted: null, global: true,
        headers: {}, timeout_ms: 5_000, previous_secret_encrypted: null, previous_secret_expires_at: null,
      },
      notification: {
        id: randomUUID(), user_id: user, type: 'job_failed', category: 'job', severity: 'error', title: 'Job failed', message: 'exit 1', data: '{}',
        action_url: null, source_type: 'job', source_id: randomUUID(), source_key: 'k', event_id: null, occurred_at: now, created_at: now,
      },
    };
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({ topic: oldTier, messages: [{ key: user, value: await codec.encode(oldTier, command), headers: { [DUE_AT_HEADER]: String(now), [ATTEMPT_HEADER]: '2' } }] });
    await producer.disconnect();

    h = await startWith(settings);
    const got = await waitFor(() => receiver!.at('/former-tier')[0], 'the delivery from the former tier');
    expect(got.headers['webhook-id']).toBe(command.delivery_id);
    const result = await waitFor(async () => (await readTopic(settings.endpoints.kafkaBrokers, topics.deliveryResults, (v) => codec.decode('DeliveryResult', v)))
      .map((r) => r.value as DeliveryResult | null).find((r) => r?.delivery_id === command.delivery_id), 'its result');
    expect(result).toMatchObject({ attempt: 2, outcome: 'sent', status: 200 });
  });
});
