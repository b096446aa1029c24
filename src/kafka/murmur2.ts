/**
 * Where Kafka's Java client puts a keyed record: murmur2 of the key's UTF-8
 * bytes (Utils.murmur2), made positive, modulo the partition count. Written
 * in 32-bit integer arithmetic (Math.imul), as Java's int arithmetic is;
 * kafkajs' own murmur2 computes the same with 64-bit Long objects, several
 * allocations per four bytes of key, and was a few per cent of the
 * pipeline's CPU time.
 */
import type { Partitioners } from 'kafkajs';

const SEED = 0x9747b28c;
const M = 0x5bd1e995;

/** murmur2 of `key`'s UTF-8 bytes, as a signed 32-bit integer (Java's int). */
export function murmur2(key: string | Uint8Array): number {
  if (typeof key === 'string') return isAscii(key) ? hash(key.length, (i) => key.charCodeAt(i)) : murmur2(Buffer.from(key, 'utf8'));
  return hash(key.length, (i) => key[i]!);
}

/** The partition among `partitions` that Kafka's Java client, and kafkajs' default partitioner, give `key`. */
export function partitionOfKey(key: string | Uint8Array, partitions: number): number {
  return (murmur2(key) & 0x7fffffff) % partitions;
}

/**
 * kafkajs' DefaultPartitioner with this murmur2: an explicit partition as it
 * is, a key by murmur2, no key round-robin over the partitions that have a
 * leader. Every record Tidings writes has a key or a partition.
 */
export const javaCompatiblePartitioner: typeof Partitioners.DefaultPartitioner = () => {
  let counter = Math.floor(Math.random() * 0x7fffffff);
  return ({ partitionMetadata, message }) => {
    if (message.partition !== null && message.partition !== undefined) return message.partition;
    if (message.key !== null && message.key !== undefined) return partitionOfKey(message.key, partitionMetadata.length);
    const available = partitionMetadata.filter((p) => p.leader >= 0);
    const pool = available.length > 0 ? available : partitionMetadata;
    counter = (counter + 1) & 0x7fffffff;
    return pool[counter % pool.length]!.partitionId;
  };
};

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}

function hash(length: number, byteAt: (i: number) => number): number {
  let h = (SEED ^ length) | 0;
  const length4 = length >>> 2;
  for (let i = 0; i < length4; i++) {
    const i4 = i * 4;
    let k = (byteAt(i4) & 0xff) | ((byteAt(i4 + 1) & 0xff) << 8) | ((byteAt(i4 + 2) & 0xff) << 16) | ((byteAt(i4 + 3) & 0xff) << 24);
    k = Math.imul(k, M);
    k ^= k >>> 24;
    k = Math.imul(k, M);
    h = Math.imul(h, M) ^ k;
  }
  const tail = length & ~3;
  const rest = length & 3;
  if (rest === 3) h ^= (byteAt(tail + 2) & 0xff) << 16;
  if (rest >= 2) h ^= (byteAt(tail + 1) & 0xff) << 8;
  if (rest >= 1) h = Math.imul(h ^ (byteAt(tail) & 0xff), M);
  h ^= h >>> 13;
  h = Math.imul(h, M);
  h ^= h >>> 15;
  return h | 0;
}
