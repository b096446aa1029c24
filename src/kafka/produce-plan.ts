/**
 * Splits records into produce requests the brokers accept. A broker refuses a
 * partition's record batch larger than the topic's max.message.bytes
 * (MESSAGE_TOO_LARGE) and a request larger than socket.request.max.bytes, and
 * kafkajs sends all records of one partition in one batch of one request, so a
 * burst for one user (one partition of notification.accepted) must be spread
 * over several requests. Order within a partition is kept: requests are sent
 * one after another.
 */
import type { EncodedRecord } from '../processor.ts';

/** bytes of a record batch's header (magic 2) */
export const BATCH_OVERHEAD = 61;
/** bytes of a record's framing at most: length, attributes, timestamp and offset deltas, key and value lengths, header count */
const RECORD_OVERHEAD = 30;
/** bytes of a header's two length varints at most */
const HEADER_OVERHEAD = 10;
/** bytes of a produce request besides its record batches: request header, transactional id, per topic and partition fields */
const REQUEST_OVERHEAD = 1024;

/** The bytes a record takes in a record batch, rounded up (no compression). */
export function recordBytes(key: Buffer | string | null, value: Buffer | null, headers: Record<string, string> = {}): number {
  let bytes = RECORD_OVERHEAD + byteLength(key) + (value?.length ?? 0);
  for (const [name, text] of Object.entries(headers)) bytes += HEADER_OVERHEAD + Buffer.byteLength(name) + Buffer.byteLength(text);
  return bytes;
}

/** Whether a record can ever be written to a topic accepting batches of `maxMessageBytes`. */
export function fitsAlone(record: Pick<EncodedRecord, 'bytes'>, maxMessageBytes: number): boolean {
  return BATCH_OVERHEAD + record.bytes <= maxMessageBytes;
}

/**
 * Groups records, in order, into requests: each partition's part of a request
 * stays within its topic's max.message.bytes, and a request within
 * `requestBytes`. A record too large to fit alone still gets a request of its
 * own (and is refused by the broker); callers check fitsAlone first.
 */
export function planRequests(records: readonly EncodedRecord[], maxMessageBytes: (topic: string) => number, requestBytes: number): EncodedRecord[][] {
  const requests: EncodedRecord[][] = [];
  let current: EncodedRecord[] = [];
  let currentBytes = REQUEST_OVERHEAD;
  let perPartition = new Map<string, number>();
  for (const record of records) {
    const slot = `${record.topic}\u0000${record.partition}`;
    const inSlot = perPartition.get(slot) ?? BATCH_OVERHEAD;
    const overPartition = inSlot + record.bytes > maxMessageBytes(record.topic);
    const overRequest = currentBytes + record.bytes + BATCH_OVERHEAD > requestBytes;
    if (current.length > 0 && (overPartition || overRequest)) {
      requests.push(current);
      current = [];
      currentBytes = REQUEST_OVERHEAD;
      perPartition = new Map();
    }
    const fresh = !perPartition.has(slot);
    current.push(record);
    currentBytes += record.bytes + (fresh ? BATCH_OVERHEAD : 0);
    perPartition.set(slot, (perPartition.get(slot) ?? BATCH_OVERHEAD) + record.bytes);
  }
  if (current.length > 0) requests.push(current);
  return requests;
}

function byteLength(key: Buffer | string | null): number {
  if (key === null) return 0;
  return typeof key === 'string' ? Buffer.byteLength(key) : key.length;
}
