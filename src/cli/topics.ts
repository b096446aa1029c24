/** `tidings topics`: creates the registry's missing topics (each retry tier too) and lists them all. */
import { tiersOf, type Config } from '../config.ts';
import { createLogger } from '../logger.ts';
import { resolveEndpoints } from './services.ts';
import { createKafka, ensureTopics, topicNames } from '../kafka/client.ts';
import { TOPICS, allTopics } from '../kafka/topics.ts';

export async function topicsCommand(config: Config): Promise<number> {
  const kafka = createKafka({ brokers: (await resolveEndpoints(config)).kafkaBrokers, clientId: config.kafkaClientId, log: createLogger('warn') });
  const tiers = tiersOf(config);
  const created = await ensureTopics(kafka, { prefix: config.topicPrefix, partitions: config.partitions, replicationFactor: config.replicationFactor, tiers });
  for (const { key, name } of allTopics(topicNames(config.topicPrefix), tiers)) {
    console.log(`${name.padEnd(48)} ${TOPICS[key].cleanup.padEnd(15)} ${created.includes(name) ? 'created' : 'exists'}`);
  }
  return 0;
}
