/**
 * The kafkajs patch (patches/kafkajs+2.2.4.patch) changes how a produce
 * request is built: grouping by partition without copying, and record deltas
 * in the int32 range written without Long objects. The bytes must not change.
 */
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

const require = createRequire(import.meta.url);
type EncoderInstance = { writeVarLong(v: unknown): EncoderInstance; buffer: Buffer };
const Encoder = require('kafkajs/src/protocol/encoder') as { new(): EncoderInstance; sizeOfVarLong(v: unknown): number };
const Long = require('kafkajs/src/utils/long') as { fromNumber(v: number): unknown };
const group = require('kafkajs/src/producer/groupMessagesPerPartition') as (args: unknown) => Record<number, { key: string }[]>;

describe('kafkajs produce encoding (patched)', () => {
  it('writes a number varlong as the Long path writes it, and sizes it the same', () => {
    const values = [0, 1, -1, 63, 64, -64, -65, 127, 128, 300, -300, 2 ** 20, -(2 ** 20), 2 ** 30, -(2 ** 30), 2 ** 31 - 1, -(2 ** 31)];
    for (const v of values) {
      expect(new Encoder().writeVarLong(v).buffer).toEqual(new Encoder().writeVarLong(Long.fromNumber(v)).buffer);
      expect(Encoder.sizeOfVarLong(v)).toBe(Encoder.sizeOfVarLong(Long.fromNumber(v)));
    }
    // Beyond the int32 range the Long path still runs.
    expect(new Encoder().writeVarLong(2 ** 40).buffer).toEqual(new Encoder().writeVarLong(Long.fromNumber(2 ** 40)).buffer);
  });

  it('groups messages by partition in their order', () => {
    const messages = Array.from({ length: 1_000 }, (_, i) => ({ key: `k${i}`, partition: i % 3 }));
    const grouped = group({ topic: 't', partitionMetadata: [{ partitionId: 0 }, { partitionId: 1 }, { partitionId: 2 }], messages, partitioner: ({ message }: { message: { partition: number } }) => message.partition });
    expect(Object.keys(grouped)).toEqual(['0', '1', '2']);
    for (const p of [0, 1, 2]) expect(grouped[p]!.map((m) => m.key)).toEqual(messages.filter((m) => m.partition === p).map((m) => m.key));
  });
});
