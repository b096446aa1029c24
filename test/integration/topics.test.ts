/**
 * Topic creation on the real broker: when ensureTopics returns, every
 * partition of every new topic answers, so a process can read end offsets at
 * once (a leader in the metadata alone is not enough: the broker may still
 * answer NOT_LEADER_FOR_PARTITION for a moment).
 */
import { describe, expect, inject, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { createKafka, ensureTopics, topicNames } from '../../src/kafka/client.ts';
import { TOPICS, allTopics } from '../../src/kafka/topics.ts';
import { createLogger } from '../../src/logger.ts';

describe('ensureTopics', () => {
  it('returns only once every partition of every new topic serves offsets, and creates nothing twice', async () => {
    const brokers = inject('endpoints').kafkaBrokers;
    const kafka = createKafka({ brokers, clientId: 'test-topics', log: createLogger('silent') });
    // A plain client with no retries: the first ListOffsets must succeed.
    const admin = new Kafka({ clientId: 'test-topics-check', brokers, logLevel: logLevel.NOTHING, retry: { retries: 0 } }).admin();
    await admin.connect();
    try {
      for (let round = 0; round < 3; round++) {
        const prefix = `${inject('runPrefix')}topics${randomBytes(4).toString('hex')}.`;
        const tiers = { deliveryWebhookRetry: [100, 200, 200] };
        const created = await ensureTopics(kafka, { prefix, partitions: 3, replicationFactor: 1, tiers });
        const names = allTopics(topicNames(prefix), tiers).map((t) => t.name);
        expect(names).toContain(`${prefix}notification.delivery.webhook.retry.200ms`);
        expect(names).not.toContain(`${prefix}notification.delivery.webhook.retry`);
        expect(created.sort()).toEqual([...names].sort());
        expect((await admin.listTopics()).filter((t) => t.startsWith(prefix)).sort()).toEqual([...names].sort());
        for (const topic of created) {
          const offsets = await admin.fetchTopicOffsets(topic);
          expect(offsets.map((o) => [o.partition, o.high]).sort()).toEqual([[0, '0'], [1, '0'], [2, '0']]);
        }
        expect(await ensureTopics(kafka, { prefix, partitions: 3, replicationFactor: 1, tiers })).toEqual([]);
      }
      // The registry, written out: a topic added or dropped there is a change this test should see.
      expect(Object.values(TOPICS).map((t) => t.base).sort()).toEqual([
        'notification.accepted', 'notification.accepted.dlq', 'notification.audit', 'notification.dedupe', 'notification.delivery.email',
        'notification.delivery.email.dlq', 'notification.delivery.email.priority', 'notification.delivery.email.retry', 'notification.delivery.results', 'notification.delivery.webhook', 'notification.delivery.webhook.dlq', 'notification.delivery.webhook.retry',
        'notification.dlq.redrives', 'notification.events', 'notification.events.dlq', 'notification.inbox',
        'notification.preferences', 'notification.reads', 'notification.recipients', 'notification.scheduled', 'notification.timers', 'notification.webhooks',
      ]);
    } finally {
      await admin.disconnect();
    }
  });
});
