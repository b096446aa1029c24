/** `tidings topics`: creates the registry's missing topics and lists them all. */
import type { Config } from '../config.ts';
import { createLogger } from '../logger.ts';
import { resolveEndpoints } from './services.ts';
import { createKafka, ensureTopics, topicNames } from '../kafka/client.ts';
import { TOPICS, type TopicKey } from '../kafka/topics.ts';

export async function topicsCommand(config: Config): Promise<number> {
  const kafka = createKafka({ brokers: (await resolveEndpoints(config)).kafkaBrokers, clientId: config.kafkaClientId, log: createLogger('warn') });
  const created = await ensureTopics(kafka, { prefix: config.topicPrefix, partitions: config.partitions, replicationFactor: config.replicationFactor });
  const names = topicNames(config.topicPrefix);
  for (const key of Object.keys(TOPICS) as TopicKey[]) {
    const spec = TOPICS[key];
    console.log(`${names[key].padEnd(40)} ${spec.cleanup.padEnd(15)} ${created.includes(names[key]) ? 'created' : 'exists'}`);
  }
  return 0;
}
