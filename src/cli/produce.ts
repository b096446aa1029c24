/** `tidings produce <type> <user> [title]`: publishes one test event to notification.events with kafkajs. */
import { randomUUID } from 'node:crypto';
import type { Config } from '../config.ts';
import { createLogger } from '../logger.ts';
import { resolveEndpoints } from './services.ts';
import { createKafka, topicNames, withAdmin } from '../kafka/client.ts';
import { createCodec } from '../kafka/codec.ts';
import { valueSchemas } from '../kafka/topics.ts';
import { createPublisher } from '../kafka/publisher.ts';
import { eventKey, type NotificationEvent } from '../model/notification.ts';

export async function produceCommand(config: Config, args: string[]): Promise<number> {
  const [type, userId, title] = args;
  if (!type || !userId) {
    console.error('usage: tidings produce <type> <user-id> [title]');
    return 2;
  }
  const ends = await resolveEndpoints(config);
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const kafka = createKafka({ brokers: ends.kafkaBrokers, clientId: config.kafkaClientId, log });
  const topics = topicNames(config.topicPrefix);
  const existing = await withAdmin(kafka, (admin) => admin.listTopics());
  if (!existing.includes(topics.events)) {
    console.error(`topic ${topics.events} does not exist; \`tidings topics\` or \`tidings start\` creates it`);
    return 1;
  }
  const codec = createCodec(ends.schemaRegistryUrl);
  await codec.register(valueSchemas(topics, ['events']));
  const publisher = await createPublisher(kafka, codec);
  const event: NotificationEvent = {
    event_id: randomUUID(), user_id: userId, audience: null, type, title: title ?? `Test ${type}`, message: 'Sent with `tidings produce`.',
    severity: 'info', data: '{}', action_url: null, source_type: 'cli', source_id: randomUUID(), occurred_at: Date.now(),
  };
  try {
    const at = await publisher.publish(topics.events, eventKey(event), event);
    console.log(`produced to ${topics.events} partition ${at.partition} offset ${at.offset}`);
  } finally {
    await publisher.disconnect();
  }
  return 0;
}
