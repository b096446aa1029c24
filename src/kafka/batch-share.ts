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
