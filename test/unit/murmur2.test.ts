import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { javaCompatiblePartitioner, murmur2, partitionOfKey } from '../../src/kafka/murmur2.ts';

const metadata = (n: number): PartitionMetadata[] => Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 0, partitionErrorCode: 0, replicas: [0], isr: [0] }));

describe('murmur2 placement', () => {
  it('gives the values of Kafka\'s Java client (Utils.murmur2)', () => {
    // From Kafka's UtilsTest.testMurmur2.
    const cases: [string, number][] = [
      ['21', -973932308], ['foobar', -790332482], ['a-little-bit-long-string', -985981536],
      ['a-little-bit-longer-string', -1486304829], ['lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8', -58897971], ['abc', 479470107],
    ];
    for (const [key, hash] of cases) {
      expect(murmur2(key)).toBe(hash);
      expect(murmur2(Buffer.from(key))).toBe(hash);
    }
  });

  it('places keys where kafkajs\' default partitioner does: ASCII, non-ASCII, every length, bytes', () => {
    const theirs = Partitioners.DefaultPartitioner();
    const ours = javaCompatiblePartitioner();
    const keys: (string | Buffer)[] = ['', 'ü', 'user-7', 'ébène:€:😀', 'job:42:job_failed:user-1'];
    for (let i = 0; i < 2_000; i++) keys.push(randomBytes(i % 40).toString(i % 3 === 0 ? 'latin1' : 'base64'), randomBytes(i % 37));
    for (const key of keys) {
      for (const n of [1, 3, 6, 32]) {
        const expected = theirs({ topic: 't', partitionMetadata: metadata(n), message: { key, value: null } });
        expect(ours({ topic: 't', partitionMetadata: metadata(n), message: { key, value: null } })).toBe(expected);
        expect(partitionOfKey(key, n)).toBe(expected);
      }
    }
  });

  it('keeps an explicit partition and spreads keyless records over the partitions with a leader', () => {
    const place = javaCompatiblePartitioner();
    expect(place({ topic: 't', partitionMetadata: metadata(6), message: { key: 'user-7', value: null, partition: 4 } })).toBe(4);
    const partitions = metadata(4).map((p) => (p.partitionId === 2 ? { ...p, leader: -1 } : p));
    const seen = new Set<number>();
    for (let i = 0; i < 30; i++) seen.add(place({ topic: 't', partitionMetadata: partitions, message: { value: null } }));
    expect([...seen].sort()).toEqual([0, 1, 3]);
  });
});
