/**
 * How much of a fetched batch the runner takes now. kafkajs fetches again only
 * when every batch of the last fetch is done, so one partition's long batch (a
 * burst for one user) would hold back every other partition: a batch takes a
 * bounded share, then only the records that are due (retry tiers), then only
 * as many as the sink has room for (a send rate). When it takes fewer than are
 * due or have room, it says when to look again; the runner pauses the
 * partition until then and the rest is fetched again.
 */
import type { IHeaders, KafkaMessage } from 'kafkajs';

/** Records and bytes of a partition one batch takes at most: what one fetch round may cost the other partitions. */
export const BATCH_RECORDS = 400;
export const BATCH_BYTES = 512 * 1024;

export interface Share {
  ready: readonly KafkaMessage[];
  /** ms since the epoch to look at the rest again; undefined: everything fetched was taken */
  waitUntil?: number;
}

export interface ShareRules {
  /** records and bytes one batch takes at most (ProcessorSpec.batch); BATCH_RECORDS and BATCH_BYTES by default */
  batch?: { records: number; bytes: number };
  /** when a record may be processed (ProcessorSpec.dueAt) */
  dueAt?(record: { topic: string; headers: Readonly<Record<string, string>> }): number | undefined;
  /** how many of `wanted` records the sink takes now (ProcessorSpec.room) */
  room?(topic: string, wanted: number): { take: number; retryAt: number };
}

/** The share of `messages` (one partition of `topic`) to write now, at `now`. */
export function takeShare(topic: string, messages: readonly KafkaMessage[], rules: ShareRules, now: number): Share {
  return roomShare(topic, dueShare(topic, boundedShare(messages, rules.batch?.records, rules.batch?.bytes), rules, now), rules);
}

/** The first records of a fetched batch, up to BATCH_RECORDS records or BATCH_BYTES bytes (at least one). */
export function boundedShare<M extends { value: Buffer | null }>(messages: readonly M[], maxRecords = BATCH_RECORDS, maxBytes = BATCH_BYTES): readonly M[] {
  let bytes = 0;
  for (let i = 0; i < messages.length; i++) {
    bytes += messages[i]?.value?.length ?? 0;
    if (i + 1 >= maxRecords || bytes >= maxBytes) return messages.slice(0, i + 1);
  }
  return messages;
}

/** Bytes a record takes in a fetch response besides its key, value and headers (length, attributes, deltas, varints), about. */
const RECORD_OVERHEAD = 16;
/**
 * Bytes in the log per offset that no fetched message shows: a transaction's
 * commit marker (a control batch of its own) and the header of the data batch
 * before it, about one of each per transaction of the producing processor.
 */
const MARKER_OVERHEAD = 140;
/** The fetch size is this much above what the batch's records are expected to take. */
const FETCH_HEADROOM = 1.25;
/** No partition's fetch is made smaller. */
export const MIN_FETCH_BYTES = 64 * 1024;

export interface FetchSizer {
  /** bytes to fetch from a partition of `topic` (kafkajs' maxBytesPerPartition, as a function: patches/kafkajs) */
  bytes(topic: string, partition: number): number;
  /** learns the size of `topic`'s records from a fetched batch */
  observe(topic: string, messages: readonly KafkaMessage[]): void;
}

/**
 * Fetch sizes per topic that match what a batch takes. kafkajs decodes all
 * that a fetch returns, and the records a batch does not take are fetched and
 * decoded again: with a fixed size of twice the batch's bytes, a share of 2,000
 * projected notifications of ~200 bytes came out of fetches of 13,000–18,000.
 * So a topic is fetched by its records' mean size in the log (key, value,
 * headers, the per-record overhead and the transaction markers between them)
 * times the records a batch takes, with headroom, within [MIN_FETCH_BYTES,
 * twice the batch's bytes]; before its first batch, at the upper bound. Kafka
 * returns a partition's first record batch whole whatever the size, so a
 * fetch sized too small still makes progress.
 */
export function fetchSizer(batch: { records: number; bytes: number } = { records: BATCH_RECORDS, bytes: BATCH_BYTES }): FetchSizer {
  const upper = Math.max(MIN_FETCH_BYTES, 2 * batch.bytes);
  const perRecord = new Map<string, number>();
  return {
    bytes(topic) {
      const mean = perRecord.get(topic);
      if (mean === undefined) return upper;
      return Math.min(upper, Math.max(MIN_FETCH_BYTES, Math.ceil(batch.records * mean * FETCH_HEADROOM)));
    },
    observe(topic, messages) {
      const first = messages[0];
      const last = messages[messages.length - 1];
      if (!first || !last) return;
      // The headers of one record stand for all of them: they are a processor's own, of a similar size.
      let headers = 0;
      for (const [key, value] of Object.entries(first.headers ?? {})) headers += key.length + (Array.isArray(value) ? value.reduce((n, v) => n + v.length, 0) : value?.length ?? 0);
      let bytes = 0;
      for (const message of messages) bytes += (message.key?.length ?? 0) + (message.value?.length ?? 0) + headers + RECORD_OVERHEAD;
      const unseen = Number(BigInt(last.offset) - BigInt(first.offset)) + 1 - messages.length;
      const mean = (bytes + Math.max(0, unseen) * MARKER_OVERHEAD) / messages.length;
      const before = perRecord.get(topic);
      perRecord.set(topic, before === undefined ? mean : (before + mean) / 2);
    },
  };
}

/** The records that are due, up to the first that is not, and when that one is. */
function dueShare(topic: string, messages: readonly KafkaMessage[], rules: ShareRules, now: number): Share {
  if (!rules.dueAt) return { ready: messages };
  for (let i = 0; i < messages.length; i++) {
    const due = rules.dueAt({ topic, headers: headerStrings(messages[i]!.headers) });
    if (due !== undefined && due > now) return { ready: messages.slice(0, i), waitUntil: due };
  }
  return { ready: messages };
}

/** As many of the due records as the sink has room for, and when to look again if not all. */
function roomShare(topic: string, due: Share, rules: ShareRules): Share {
  if (!rules.room || due.ready.length === 0) return due;
  const { take, retryAt } = rules.room(topic, due.ready.length);
  if (take >= due.ready.length) return due;
  return { ready: due.ready.slice(0, Math.max(0, take)), waitUntil: Math.min(retryAt, due.waitUntil ?? Infinity) };
}

/** A record's headers as strings (kafkajs gives Buffers, strings or arrays of them). */
export function headerStrings(headers: IHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [key, value] of Object.entries(headers ?? {})) {
    if (value === undefined) continue;
    out[key] = Array.isArray(value) ? value.map(String).join(',') : value.toString();
  }
  return out;
}
