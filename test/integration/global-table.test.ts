/**
 * The global table on the real broker: a crash of its consumer after start
 * reaches `onCrash` (the process's fatal handler), where it used to be logged
 * while dedupe went on reading a table that no longer followed its topic.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createKafka, type Kafka } from '../../src/kafka/client.ts';
import { startGlobalTable, type GlobalTable } from '../../src/kafka/global-table.ts';
import { DecodeError } from '../../src/errors.ts';
import { createLogger } from '../../src/logger.ts';
import { waitFor } from './harness.ts';

describe('global table', () => {
  const log = createLogger('silent');
  let kafka: Kafka;
  const tables: GlobalTable<string>[] = [];

  beforeAll(() => {
    kafka = createKafka({ brokers: inject('endpoints').kafkaBrokers, clientId: 'test-global-table', log });
  });
  afterAll(async () => {
    await Promise.all(tables.map((t) => t.stop()));
  });

  /** A topic of its own with `records` in it; values are plain text. */
  async function topicWith(records: { key: string; value: string }[]): Promise<string> {
    const topic = `t${randomUUID()}.global-table`;
    const admin = kafka.admin();
    await admin.connect();
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 2, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] }], waitForLeaders: true });
    } finally {
      await admin.disconnect();
    }
    await produce(topic, records);
    return topic;
  }

  async function produce(topic: string, records: { key: string; value: string }[]): Promise<void> {
    const producer = kafka.producer();
    await producer.connect();
    try {
      await producer.send({ topic, messages: records });
    } finally {
      await producer.disconnect();
    }
  }

  /** Decodes text; "poison" is undecodable (skipped), "bug" makes decode throw an Error that is no TidingsError (a bug, to errorKind), which kafkajs would retry. */
  async function decode(value: Buffer): Promise<string> {
    const text = value.toString('utf8');
    if (text === 'poison') throw new DecodeError('undecodable');
    if (text === 'bug') throw new Error('decode has a bug');
    return text;
  }

  it('catches up with what was written before start, skipping an undecodable record, and follows what comes after', async () => {
    const crashes: Error[] = [];
    const topic = await topicWith([{ key: 'a', value: '1' }, { key: 'b', value: 'poison' }, { key: 'c', value: '3' }]);
    const table = await startGlobalTable({ kafka, topic, decode, log, onCrash: (err) => crashes.push(err) });
    tables.push(table);
    expect(Object.fromEntries(table.entries())).toEqual({ a: '1', c: '3' });
    await produce(topic, [{ key: 'a', value: '2' }]);
    await waitFor(() => (table.get('a') === '2' ? true : undefined), 'the table to follow the topic');
    expect(crashes).toEqual([]);
  });

  it('a bug while following after start stops the table and reaches onCrash at once', async () => {
    const crashes: Error[] = [];
    const topic = await topicWith([{ key: 'a', value: '1' }]);
    const table = await startGlobalTable({ kafka, topic, decode, log, onCrash: (err) => crashes.push(err) });
    tables.push(table);
    await produce(topic, [{ key: 'a', value: 'bug' }]);
    // Not retried for a minute and restarted: the bug is reported within the default 30 s wait.
    const [crash] = await waitFor(() => (crashes.length > 0 ? crashes : undefined), 'onCrash');
    expect(crash!.message).toContain('decode has a bug');
    expect(table.get('a')).toBe('1');
  });

  it('a bug while catching up fails the start, and onCrash is not called', async () => {
    const crashes: Error[] = [];
    const topic = await topicWith([{ key: 'a', value: 'bug' }]);
    await expect(startGlobalTable({ kafka, topic, decode, log, onCrash: (err) => crashes.push(err) })).rejects.toThrow('decode has a bug');
    expect(crashes).toEqual([]);
  });
});
