/**
 * Exactly-once inside Kafka: a batch's outputs, its dead letters and its input
 * offsets are committed in one transaction.
 *
 * Transactional ids are per input partition (`<prefix>.<topic>.<partition>`),
 * not per process. Whoever owns partition p uses the same id for it, so when a
 * rebalance moves p to another instance, that instance's initTransactions
 * bumps the producer epoch and fences the previous owner: a zombie that still
 * believes it owns p can no longer commit. (kafkajs does not implement
 * KIP-447's consumer-group fencing, which would allow one id per process.)
 */
import type { Producer, Message } from 'kafkajs';
import { clusterLimits, createProducer, partitionOfKey, type Kafka, type TopicLimits } from './client.ts';
import type { Codec } from './codec.ts';
import type { DeadLetter, EncodedRecord, Sink, SinkBatch } from '../processor.ts';
import { deadLetterRecord } from './dead-letters.ts';
import { fitsAlone, planRequests, recordBytes } from './produce-plan.ts';
import { RecordTooLargeError } from '../errors.ts';
import type { SchemaTopic, TopicName, TopicValue } from './topics.ts';

/** One record a processor wants written to topic K, its value typed by K's schema. */
export interface TopicRecord<K extends SchemaTopic> {
  topic: TopicName<K>;
  key: string;
  /** encoded with the topic's schema; null writes a tombstone */
  value: TopicValue<K> | null;
  /** a changelog record goes to the partition of the input it belongs to; otherwise the key's partition */
  partition?: number;
  headers?: Record<string, string>;
}

/** One record a processor wants written, to any topic with a schema. */
export type OutRecord = { [K in SchemaTopic]: TopicRecord<K> }[SchemaTopic];

export interface TransactionalSinkOptions<O> {
  kafka: Kafka;
  codec: Codec;
  processor: string;
  groupId: string;
  /** prefix of the transactional ids, unique per processor and deployment */
  transactionalIdPrefix: string;
  deadLetterTopic: string;
  /** topic names the processor declares as its outputs (src/topology.ts); a record for any other is refused */
  outputs: readonly string[];
  /** the records an output becomes; `partition` is the input partition of the batch */
  toRecords(output: O, partition: number): OutRecord[];
  clock?: () => number;
}

export function createTransactionalSink<O>(options: TransactionalSinkOptions<O>): Sink<O> {
  const producers = new Map<string, Promise<Producer>>();
  const clock = options.clock ?? Date.now;
  // Read from the cluster, not assumed.
  const limitsOf = (topic: string): Promise<TopicLimits> => clusterLimits(options.kafka).topic(topic);
  const declared = new Set(options.outputs);

  const producerFor = (topic: string, partition: number): Promise<Producer> => {
    const transactionalId = `${options.transactionalIdPrefix}.${topic}.${partition}`;
    let producer = producers.get(transactionalId);
    if (!producer) {
      const created = createProducer(options.kafka, {
        transactionalId,
        idempotent: true,
        maxInFlightRequests: 1,
        transactionTimeout: 60_000, // ms
        // The usual retriable answer here is CONCURRENT_TRANSACTIONS: the previous
        // commit's markers are still being written, for a few ms. Kafka's Java
        // client retries it after 20 ms; the client-wide 200 ms first backoff
        // stalled a partition (and kafkajs' whole fetch round) for a quarter second.
        retry: { initialRetryTime: 20, maxRetryTime: 2_000, retries: 12 },
      });
      producer = created.connect().then(() => created);
      producer.catch(() => producers.delete(transactionalId));
      producers.set(transactionalId, producer);
    }
    return producer;
  };

  const encode = async (outputs: readonly O[], partition: number): Promise<EncodedRecord[]> => {
    const records: EncodedRecord[] = [];
    for (const output of outputs) {
      for (const record of options.toRecords(output, partition)) {
        if (!declared.has(record.topic)) throw new UndeclaredOutputError(options.processor, record.topic);
        const value = record.value === null ? null : await encodeValue(options.codec, record);
        const limit = await limitsOf(record.topic);
        const encoded: EncodedRecord = {
          topic: record.topic,
          partition: record.partition ?? partitionOfKey(record.key, limit.partitions),
          key: record.key,
          value,
          headers: record.headers,
          bytes: recordBytes(record.key, value, record.headers),
        };
        if (!fitsAlone(encoded, limit.maxMessageBytes)) {
          throw new RecordTooLargeError(`its ${record.topic} record would be ${encoded.bytes} bytes, over the topic's max.message.bytes of ${limit.maxMessageBytes}`);
        }
        records.push(encoded);
      }
    }
    return records;
  };

  const encodeDeadLetter = async (letter: DeadLetter): Promise<EncodedRecord> =>
    deadLetterRecord(letter, options.deadLetterTopic, await limitsOf(options.deadLetterTopic), options.processor, clock());

  return {
    offsets: 'sink',

    // Initialising the partition's transactional producer fences its previous
    // owner and aborts whatever transaction that owner left open, before any
    // state of the partition is restored from a changelog.
    async prepare(topic, partition) {
      await producerFor(topic, partition);
    },

    encode,

    async apply(batch: SinkBatch<O>) {
      // Encode before the transaction opens: a bad output is a bug, not a reason to abort half-way.
      const records: EncodedRecord[] = [];
      for (const item of batch.items) records.push(...(item.encoded ?? await encode(item.outputs, batch.partition)));
      for (const letter of batch.deadLetters) records.push(await encodeDeadLetter(letter));
      const maxBytes = new Map<string, number>();
      for (const topic of new Set(records.map((r) => r.topic))) maxBytes.set(topic, (await limitsOf(topic)).maxMessageBytes);
      const requests = planRequests(records, (topic) => maxBytes.get(topic) ?? 0, await clusterLimits(options.kafka).request());

      const producer = await producerFor(batch.topic, batch.partition);
      const transaction = await producer.transaction();
      try {
        for (const request of requests) await transaction.sendBatch({ topicMessages: byTopic(request) });
        // A punctuation read no input: the producer of its partition still fences a previous owner.
        if (!batch.punctuation) {
          await transaction.sendOffsets({
            consumerGroupId: options.groupId,
            topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: batch.nextOffset }] }],
          });
        }
        await transaction.commit();
      } catch (err) {
        await transaction.abort().catch(() => undefined);
        // A fenced or broken producer cannot be reused; the retry starts a fresh one.
        const transactionalId = `${options.transactionalIdPrefix}.${batch.topic}.${batch.partition}`;
        producers.delete(transactionalId);
        await producer.disconnect().catch(() => undefined);
        throw err;
      }
    },

    async close() {
      const all = [...producers.values()];
      producers.clear();
      await Promise.all(all.map(async (p) => (await p.catch(() => undefined))?.disconnect()));
    },
  };
}

/** A processor wrote to a topic it does not declare as an output in src/topology.ts: a bug. */
export class UndeclaredOutputError extends TypeError {
  constructor(readonly processor: string, readonly topic: string) {
    super(`processor ${processor} may not write to ${topic}: it is not among the outputs src/topology.ts declares for it`);
    this.name = 'UndeclaredOutputError';
  }
}

/** A request's records as kafkajs' topicMessages, partitions explicit. */
function byTopic(records: readonly EncodedRecord[]): { topic: string; messages: Message[] }[] {
  const topics = new Map<string, Message[]>();
  for (const r of records) {
    let messages = topics.get(r.topic);
    if (!messages) {
      messages = [];
      topics.set(r.topic, messages);
    }
    messages.push({ key: r.key, value: r.value, partition: r.partition, headers: r.headers });
  }
  return [...topics].map(([topic, messages]) => ({ topic, messages }));
}

/**
 * Encodes a record's value with its topic's schema. TypeScript does not relate
 * the topic and the value of a member of the OutRecord union to each other
 * once the union is narrowed by neither, so the pair is widened here, once;
 * every OutRecord was checked as a matching pair where it was built.
 */
function encodeValue(codec: Codec, record: OutRecord): Promise<Buffer> {
  const pair = record as TopicRecord<SchemaTopic>;
  return codec.encode(pair.topic, pair.value as TopicValue<SchemaTopic>);
}
