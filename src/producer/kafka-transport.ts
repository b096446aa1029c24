/**
 * Events written straight to notification.events: Avro in the Confluent wire
 * format through the schema registry, keyed by the event key, on the partition
 * Kafka's Java client and kafkajs pick for that key (murmur2), by an
 * idempotent producer with acks from all in-sync replicas.
 */
import { clusterLimits, createKafka, createProducer, partitionOfKey, topicNames, withAdmin } from '../kafka/client.ts';
import { createCodec } from '../kafka/codec.ts';
import { valueSchemas } from '../kafka/topics.ts';
import { fitsAlone, planRequests, recordBytes } from '../kafka/produce-plan.ts';
import type { EncodedRecord } from '../processor.ts';
import { NotFoundError, RecordTooLargeError } from '../errors.ts';
import { createLogger, type Logger } from '../logger.ts';
import type { PreparedEvent } from './event.ts';
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
  const producer = createProducer(kafka, { idempotent: true, maxInFlightRequests: 5 });
  await producer.connect();

  return {
    async send(events) {
      const { partitions, maxMessageBytes } = await clusterLimits(kafka).topic(topic);
      const records = await Promise.all(events.map(async ({ key, event }): Promise<EncodedRecord> => {
        const value = await codec.encode(topic, event);
        return { topic, partition: partitionOfKey(key, partitions), key, value, bytes: recordBytes(key, value) };
      }));
      const tooLarge = records.findIndex((r) => !fitsAlone(r, maxMessageBytes));
      if (tooLarge >= 0) throw new RecordTooLargeError(`event ${tooLarge} encodes to ${records[tooLarge]?.bytes} bytes; ${topic} accepts at most ${maxMessageBytes}`);
      const sent: Sent[] = [];
      // Requests one after another: each partition's records stay in order.
      for (const request of planRequests(records, () => maxMessageBytes, await clusterLimits(kafka).request())) {
        const metadata = await producer.send({ topic, acks: -1, messages: request.map((r) => ({ key: r.key, value: r.value, partition: r.partition })) });
        sent.push(...placed(request, metadata, events.slice(sent.length)));
      }
      return sent;
    },
    close: () => producer.disconnect(),
  };
}

/**
 * The offset of each record of one request: a partition's records of a request
 * form one batch, so they follow its base offset in order.
 */
function placed(request: readonly EncodedRecord[], metadata: readonly { partition: number; baseOffset?: string }[], events: readonly PreparedEvent[]): Sent[] {
  const next = new Map(metadata.map((m) => [m.partition, BigInt(m.baseOffset ?? '-1')]));
  return request.map((record, i) => {
    const offset = next.get(record.partition) ?? -1n;
    next.set(record.partition, offset + 1n);
    const prepared = events[i] as PreparedEvent;
    return { key: prepared.key, notificationIds: prepared.notificationIds, partition: record.partition, offset: String(offset) };
  });
}
