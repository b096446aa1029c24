/**
 * Events written straight to notification.events: Avro in the Confluent wire
 * format through the schema registry, keyed by the event key, on the partition
 * Kafka's Java client and kafkajs pick for that key (murmur2), by an
 * idempotent producer with acks from all in-sync replicas (Publisher.publishBatch).
 */
import { createKafka, topicNames, withAdmin } from '../kafka/client.ts';
import { createCodec } from '../kafka/codec.ts';
import { createPublisher } from '../kafka/publisher.ts';
import { valueSchemas } from '../kafka/topics.ts';
import { NotFoundError } from '../errors.ts';
import { createLogger, type Logger } from '../logger.ts';
import type { Sent, Transport } from './transport.ts';

export interface KafkaTransportOptions {
  brokers: string[];
  schemaRegistryUrl: string;
  /** the deployment's TIDINGS_TOPIC_PREFIX; default none */
  topicPrefix?: string;
  clientId?: string;
  /** kafkajs' warnings and errors; default a warn-level logger */
  log?: Logger;
}

/**
 * Connects a producer and registers the event schema (BACKWARD compatible, so
 * an unchanged schema keeps its id).
 * @throws NotFoundError when the deployment has no notification.events topic
 */
export async function createKafkaTransport(options: KafkaTransportOptions): Promise<Transport> {
  const kafka = createKafka({ brokers: options.brokers, clientId: options.clientId ?? 'tidings-producer', log: options.log ?? createLogger('warn') });
  const topics = topicNames(options.topicPrefix ?? '');
  const topic = topics.events;
  if (!(await withAdmin(kafka, (admin) => admin.listTopics())).includes(topic)) {
    throw new NotFoundError(`topic ${topic} does not exist; \`tidings topics\` or \`tidings start\` creates it`);
  }
  const codec = createCodec(options.schemaRegistryUrl);
  await codec.register(valueSchemas(topics, ['events']));
  const publisher = await createPublisher(kafka, codec);

  return {
    async send(events) {
      const places = await publisher.publishBatch(topic, events.map(({ key, event }) => ({ key, value: event })));
      return places.map((place, i): Sent => ({ key: events[i]!.key, notificationIds: events[i]!.notificationIds, ...place }));
    },
    close: () => publisher.disconnect(),
  };
}
