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
const Long = require('kafkajs/src/utils/long') as { fromNumber(v: number): unknown; fromString(v: string): unknown };
const group = require('kafkajs/src/producer/groupMessagesPerPartition') as (args: unknown) => Record<number, { key: string }[]>;
type Rec = { offsetDelta: number; timestampDelta: number; key: Buffer; value: Buffer; headers?: Record<string, string> };
const Record = require('kafkajs/src/protocol/recordBatch/record/v0') as (r: Rec) => EncoderInstance;
const { RecordBatch } = require('kafkajs/src/protocol/recordBatch/v0') as { RecordBatch(args: unknown): Promise<EncoderInstance> };
const decodeBatch = require('kafkajs/src/protocol/recordBatch/v0/decoder') as (d: unknown) => Promise<{ records: { offset: string; timestamp: string; key: Buffer; value: Buffer; headers: Record<string, Buffer> }[] }>;
const Decoder = require('kafkajs/src/protocol/decoder') as new (b: Buffer) => unknown;

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

  it('decodes records\' offsets and timestamps (one-byte deltas and longer ones) as written', async () => {
    const firstTimestamp = 1_764_000_000_000;
    const deltas = [0, 1, -1, 63, -64, 64, -65, 5_000, -5_000, 3_000_000_000, -3_000_000_000];
    const records = deltas.map((timestampDelta, offsetDelta) => ({ offsetDelta, timestampDelta, key: Buffer.from(`k${offsetDelta}`), value: Buffer.from(`v${offsetDelta}`), headers: { h: `x${offsetDelta}` } }));
    // The first offset 2^60 is beyond a double's integers.
    const batch = await RecordBatch({ firstOffset: Long.fromString('1152921504606846976'), firstTimestamp, maxTimestamp: firstTimestamp, lastOffsetDelta: records.length - 1, records: records.map(Record) });
    const { records: decoded } = await decodeBatch(new Decoder(batch.buffer));
    expect(decoded.map((r) => r.offset)).toEqual(deltas.map((_, i) => (2n ** 60n + BigInt(i)).toString()));
    expect(decoded.map((r) => r.timestamp)).toEqual(deltas.map((d) => String(firstTimestamp + d)));
    expect(decoded.map((r) => [r.key.toString(), r.value.toString(), r.headers.h?.toString()])).toEqual(records.map((r) => [r.key.toString(), r.value.toString(), r.headers.h]));
  });

  it('groups messages by partition in their order', () => {
    const messages = Array.from({ length: 1_000 }, (_, i) => ({ key: `k${i}`, partition: i % 3 }));
    const grouped = group({ topic: 't', partitionMetadata: [{ partitionId: 0 }, { partitionId: 1 }, { partitionId: 2 }], messages, partitioner: ({ message }: { message: { partition: number } }) => message.partition });
    expect(Object.keys(grouped)).toEqual(['0', '1', '2']);
    for (const p of [0, 1, 2]) expect(grouped[p]!.map((m) => m.key)).toEqual(messages.filter((m) => m.partition === p).map((m) => m.key));
  });
});
