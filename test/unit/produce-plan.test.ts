/** Placing and sizing produce requests: partitions as Kafka's Java client picks them, batches the broker accepts. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { partitionOfKey } from '../../src/kafka/client.ts';
import { BATCH_OVERHEAD, fitsAlone, planRequests, recordBytes } from '../../src/kafka/produce-plan.ts';
import type { EncodedRecord } from '../../src/processor.ts';
import { mayBeCausedByInput, RecordTooLargeError, TransientError, ValidationError } from '../../src/errors.ts';

describe('partitionOfKey', () => {
  // murmur2 values from Kafka's own UtilsTest (clients/src/test/java/org/apache/kafka/common/utils/UtilsTest.java).
  const java: Record<string, number> = {
    '21': -973932308,
    foobar: -790332482,
    'a-little-bit-long-string': -985981536,
    'a-little-bit-longer-string': -1486304829,
    lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8: -58897971,
    abc: 479470107,
  };
  it('places a key where the Java client does: toPositive(murmur2(key)) % partitions', () => {
    for (const [key, hash] of Object.entries(java)) {
      for (const partitions of [1, 2, 6, 7, 100]) expect(partitionOfKey(key, partitions)).toBe((hash & 0x7fffffff) % partitions);
    }
  });
});

const record = (topic: string, partition: number, bytes: number): EncodedRecord => ({ topic, partition, key: 'k', value: Buffer.alloc(0), bytes });

describe('planRequests', () => {
  it('keeps every partition\'s part of a request within the topic\'s max.message.bytes, and every request within the request limit', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ topic: fc.constantFrom('a', 'b'), partition: fc.integer({ min: 0, max: 2 }), bytes: fc.integer({ min: 40, max: 3_000 }) }), { maxLength: 300 }),
      fc.integer({ min: 3_100, max: 20_000 }),
      fc.integer({ min: 5_000, max: 60_000 }),
      (specs, maxMessage, maxRequest) => {
        const records = specs.map((s) => record(s.topic, s.partition, s.bytes));
        const requests = planRequests(records, () => maxMessage, maxRequest);
        expect(requests.flat()).toEqual(records); // nothing lost, nothing reordered
        for (const request of requests) {
          const perPartition = new Map<string, number>();
          for (const r of request) perPartition.set(`${r.topic}/${r.partition}`, (perPartition.get(`${r.topic}/${r.partition}`) ?? BATCH_OVERHEAD) + r.bytes);
          for (const bytes of perPartition.values()) expect(bytes).toBeLessThanOrEqual(maxMessage);
          if (request.length > 1) expect(request.reduce((n, r) => n + r.bytes + BATCH_OVERHEAD, 0)).toBeLessThanOrEqual(maxRequest);
        }
      },
    ), { numRuns: 500 });
  });

  it('puts 20,000 notifications of 2 KB for one user (one partition) into requests under 1 MB', () => {
    const records = Array.from({ length: 20_000 }, () => record('accepted', 3, 2_100));
    const requests = planRequests(records, () => 1_048_588, 100 * 1024 * 1024);
    expect(requests.length).toBeGreaterThanOrEqual(41);
    for (const request of requests) expect(request.reduce((n, r) => n + r.bytes, BATCH_OVERHEAD)).toBeLessThanOrEqual(1_048_588);
  });

  it('sizes a record by key, value and headers, and tells whether it can ever fit', () => {
    const bytes = recordBytes('key', Buffer.alloc(1_000), { h: 'vvv' });
    expect(bytes).toBeGreaterThanOrEqual(3 + 1_000 + 4);
    expect(fitsAlone({ bytes }, bytes + BATCH_OVERHEAD)).toBe(true);
    expect(fitsAlone({ bytes }, bytes + BATCH_OVERHEAD - 1)).toBe(false);
  });
});

describe('mayBeCausedByInput', () => {
  const kafkaError = (type: string) => Object.assign(new Error(type), { type, retriable: false });
  it('says yes to what records cause: too large, invalid, refused by the database\'s data rules, poison', () => {
    expect(mayBeCausedByInput(kafkaError('MESSAGE_TOO_LARGE'))).toBe(true);
    expect(mayBeCausedByInput(Object.assign(new Error('retries exceeded'), { originalError: kafkaError('RECORD_LIST_TOO_LARGE') }))).toBe(true);
    expect(mayBeCausedByInput(Object.assign(new Error('invalid input syntax for type json'), { code: '22P02' }))).toBe(true);
    expect(mayBeCausedByInput(Object.assign(new Error('stack depth limit exceeded'), { code: '54001' }))).toBe(true);
    expect(mayBeCausedByInput(new RangeError('Maximum call stack size exceeded'))).toBe(true);
    expect(mayBeCausedByInput(new RecordTooLargeError('too large'))).toBe(true);
    expect(mayBeCausedByInput(new ValidationError(['x: bad']))).toBe(true);
  });
  it('says no to faults of the process or the cluster, which splitting a batch cannot cure', () => {
    expect(mayBeCausedByInput(kafkaError('INVALID_PRODUCER_EPOCH'))).toBe(false);
    expect(mayBeCausedByInput(kafkaError('TRANSACTIONAL_ID_AUTHORIZATION_FAILED'))).toBe(false);
    expect(mayBeCausedByInput(Object.assign(new Error('relation "notifications" does not exist'), { code: '42P01' }))).toBe(false);
    expect(mayBeCausedByInput(Object.assign(new Error('password authentication failed'), { code: '28P01' }))).toBe(false);
    expect(mayBeCausedByInput(new TransientError('broker down'))).toBe(false);
    expect(mayBeCausedByInput(new TypeError('x is undefined'))).toBe(false);
  });
});
