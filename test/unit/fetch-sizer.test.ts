import { describe, expect, it } from 'vitest';
import type { KafkaMessage } from 'kafkajs';
import { fetchSizer, MIN_FETCH_BYTES } from '../../src/kafka/batch-share.ts';

/** `count` messages at consecutive offsets from `from` (every `step`-th offset), each with a key and value of the given sizes. */
function messages(count: number, { from = 0, step = 1, key = 40, value = 200, headers = {} as Record<string, string> } = {}): KafkaMessage[] {
  return Array.from({ length: count }, (_, i) => ({
    offset: String(from + i * step),
    key: Buffer.alloc(key),
    value: Buffer.alloc(value),
    headers,
    timestamp: '0',
    attributes: 0,
  }));
}

describe('fetchSizer', () => {
  const batch = { records: 2_000, bytes: 2 * 1024 * 1024 };

  it('given no batch of a topic yet, then it fetches twice the batch bytes', () => {
    expect(fetchSizer(batch).bytes('t', 0)).toBe(4 * 1024 * 1024);
  });

  it('given batches of small records, then a fetch holds about a batch of them, not the upper bound', () => {
    const sizer = fetchSizer(batch);
    sizer.observe('t', messages(500));
    // 40 + 200 + 16 bytes a record, 2,000 records, 25 % headroom
    expect(sizer.bytes('t', 3)).toBe(Math.ceil(2_000 * 256 * 1.25));
    expect(sizer.bytes('other', 3)).toBe(4 * 1024 * 1024);
  });

  it('given offsets without a message between them (transaction markers), then they count towards the size', () => {
    const dense = fetchSizer(batch);
    dense.observe('t', messages(100));
    const sparse = fetchSizer(batch);
    sparse.observe('t', messages(100, { step: 2 })); // one marker after each record
    expect(sparse.bytes('t', 0)).toBeGreaterThan(dense.bytes('t', 0));
    expect(sparse.bytes('t', 0)).toBe(Math.ceil(2_000 * ((100 * 256 + 99 * 140) / 100) * 1.25));
  });

  it('given headers, then each record counts them', () => {
    const sizer = fetchSizer(batch);
    sizer.observe('t', messages(10, { headers: { 'tidings-due-at': '1234567890123' } }));
    expect(sizer.bytes('t', 0)).toBe(Math.ceil(2_000 * (256 + 14 + 13) * 1.25));
  });

  it('given large records, then it never fetches more than twice the batch bytes', () => {
    const sizer = fetchSizer(batch);
    sizer.observe('t', messages(10, { value: 100_000 }));
    expect(sizer.bytes('t', 0)).toBe(4 * 1024 * 1024);
  });

  it('given tiny records, then it never fetches less than the minimum', () => {
    const sizer = fetchSizer({ records: 10, bytes: 512 * 1024 });
    sizer.observe('t', messages(10, { key: 0, value: 10 }));
    expect(sizer.bytes('t', 0)).toBe(MIN_FETCH_BYTES);
  });

  it('given the records grow, then the size follows them halfway per batch', () => {
    const sizer = fetchSizer(batch);
    sizer.observe('t', messages(10, { key: 0, value: 84 })); // 100 a record
    sizer.observe('t', messages(10, { key: 0, value: 284 })); // 300 a record
    expect(sizer.bytes('t', 0)).toBe(Math.ceil(2_000 * 200 * 1.25));
  });

  it('given an empty batch, then nothing is learnt', () => {
    const sizer = fetchSizer(batch);
    sizer.observe('t', []);
    expect(sizer.bytes('t', 0)).toBe(4 * 1024 * 1024);
  });
});
