/**
 * Plain (non-transactional) producing: HTTP ingest, the CLI's test events, and
 * dead letters of sinks that cannot write them inside a Kafka transaction.
 * Idempotent, acks from all in-sync replicas.
 */
import type { Producer } from 'kafkajs';
import { clusterLimits, createProducer, partitionOfKey, type Kafka } from './client.ts';
import type { Codec } from './codec.ts';
import type { SchemaTopic, TopicName, TopicValue } from './topics.ts';
import type { DeadLetter, EncodedRecord } from '../processor.ts';
import { deadLetterRecord } from './dead-letters.ts';
import { fitsAlone, planRequests, recordBytes } from './produce-plan.ts';
import { mayBeCausedByInput, RecordTooLargeError } from '../errors.ts';

export interface Publisher {
  /** Validates, encodes and writes one record; resolves once the broker has it. */
  publish<K extends SchemaTopic>(topic: TopicName<K>, key: string, value: TopicValue<K>, headers?: Record<string, string>): Promise<{ partition: number; offset: string }>;
  /**
   * Encodes and writes records of one topic in order, in as few requests as
   * the brokers take, each on its key's partition; resolves with each one's
   * place once the brokers have them all.
   * @throws RecordTooLargeError, before anything is written, when a record can never fit the topic
   */
  publishBatch<K extends SchemaTopic>(topic: TopicName<K>, records: readonly { key: string; value: TopicValue<K> }[]): Promise<{ partition: number; offset: string }[]>;
  /** Writes raw bytes, as they came (tests and redrive). */
  publishRaw(topic: string, key: string | null, value: Buffer | null, headers?: Record<string, string>): Promise<void>;
  deadLetter(topic: string, letters: DeadLetter[], processor: string): Promise<void>;
  disconnect(): Promise<void>;
}

export async function createPublisher(kafka: Kafka, codec: Codec): Promise<Publisher> {
  const producer: Producer = createProducer(kafka, { idempotent: true, maxInFlightRequests: 5 });
  await producer.connect();
  return {
    async publish(topic, key, value, headers) {
      const encoded = await codec.encode(topic, value);
      const [meta] = await producer.send({ topic, acks: -1, messages: [{ key, value: encoded, headers }] }).catch((err: unknown) => {
        if (mayBeCausedByInput(err)) throw new RecordTooLargeError(`the ${topic} record of ${encoded.length} bytes was refused: ${(err as Error).message}`);
        throw err;
      });
      return { partition: meta?.partition ?? -1, offset: meta?.baseOffset ?? '-1' };
    },
    async publishBatch(topic, records) {
      const { partitions, maxMessageBytes } = await clusterLimits(kafka).topic(topic);
      const encoded = await Promise.all(records.map(async ({ key, value }): Promise<EncodedRecord> => {
        const bytes = await codec.encode(topic, value);
        return { topic, partition: partitionOfKey(key, partitions), key, value: bytes, bytes: recordBytes(key, bytes) };
      }));
      const tooLarge = encoded.findIndex((r) => !fitsAlone(r, maxMessageBytes));
      if (tooLarge >= 0) throw new RecordTooLargeError(`record ${tooLarge} encodes to ${encoded[tooLarge]?.bytes} bytes; ${topic} accepts at most ${maxMessageBytes}`);
      const placed: { partition: number; offset: string }[] = [];
      // Requests one after another: each partition's records stay in order.
      for (const request of planRequests(encoded, () => maxMessageBytes, await clusterLimits(kafka).request())) {
        const metadata = await producer.send({ topic, acks: -1, messages: request.map((r) => ({ key: r.key, value: r.value, partition: r.partition })) });
        placed.push(...placesOf(request, metadata));
      }
      return placed;
    },
    async publishRaw(topic, key, value, headers) {
      await producer.send({ topic, acks: -1, messages: [{ key, value, headers }] });
    },
    async deadLetter(topic, letters, processor) {
      if (letters.length === 0) return;
      const now = Date.now();
      const limits = await clusterLimits(kafka).topic(topic);
      const records = letters.map((l) => deadLetterRecord(l, topic, limits, processor, now));
      // Many letters of one partition may be more than one request may carry.
      for (const request of planRequests(records, () => limits.maxMessageBytes, await clusterLimits(kafka).request())) {
        await producer.send({ topic, acks: -1, messages: request.map((r) => ({ key: r.key, value: r.value, partition: r.partition, headers: r.headers })) });
      }
    },
    disconnect: () => producer.disconnect(),
  };
}

/**
 * The offset of each record of one request: a partition's records of a request
 * form one batch, so they follow its base offset in order.
 */
function placesOf(request: readonly EncodedRecord[], metadata: readonly { partition: number; baseOffset?: string }[]): { partition: number; offset: string }[] {
  const next = new Map(metadata.map((m) => [m.partition, BigInt(m.baseOffset ?? '-1')]));
  return request.map((record) => {
    const offset = next.get(record.partition) ?? -1n;
    next.set(record.partition, offset + 1n);
    return { partition: record.partition, offset: String(offset) };
  });
}
