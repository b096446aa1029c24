/** `tidings produce <type> <user> [title]`: publishes one test event to notification.events with the producer client (Kafka transport). */
import { randomUUID } from 'node:crypto';
import type { Config } from '../config.ts';
import { createLogger } from '../logger.ts';
import { resolveEndpoints } from './services.ts';
import { topicNames } from '../kafka/topics.ts';
import { createKafkaTransport, createProducerClient } from '../producer/index.ts';

export async function produceCommand(config: Config, args: string[]): Promise<number> {
  const [type, userId, title] = args;
  if (!type || !userId) {
    console.error('usage: tidings produce <type> <user-id> [title]');
    return 2;
  }
  const ends = await resolveEndpoints(config);
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  // Throws the NotFoundError "topic … does not exist; `tidings topics` or `tidings start` creates it" for a new prefix.
  const transport = await createKafkaTransport({ brokers: ends.kafkaBrokers, schemaRegistryUrl: ends.schemaRegistryUrl, topicPrefix: config.topicPrefix, clientId: config.kafkaClientId, log });
  const client = createProducerClient({ transport });
  try {
    const at = await client.send({
      event_id: randomUUID(), user_id: userId, type, title: title ?? `Test ${type}`, message: 'Sent with `tidings produce`.',
      data: {}, source_type: 'cli', source_id: randomUUID(),
    });
    console.log(`produced to ${topicNames(config.topicPrefix).events} partition ${at.partition} offset ${at.offset}`);
  } finally {
    await client.close();
  }
  return 0;
}
