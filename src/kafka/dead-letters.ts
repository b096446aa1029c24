/**
 * Dead letters: what the runner makes of a record that failed (deadLetterOf),
 * and a dead letter as a record of its dead-letter topic: the original key, value
 * and headers, the reason headers (deadLetterHeaders), on the partition of the
 * same number as the original's. A value too large for the dead-letter topic
 * is left out and said so; the original stays readable at the topic,
 * partition and offset the headers name until its retention ends.
 */
import type { KafkaMessage } from 'kafkajs';
import { fitsAlone, recordBytes } from './produce-plan.ts';
import { headerStrings } from './batch-share.ts';
import { ProcessingError, TidingsError } from '../errors.ts';
import type { DeadLetter, EncodedRecord } from '../processor.ts';
import type { TopicLimits } from './client.ts';

export function deadLetterRecord(letter: DeadLetter, topic: string, limits: TopicLimits, processor: string, now: number): EncodedRecord {
  const headers = deadLetterHeaders(letter, processor, now);
  const { key, value } = letter.message;
  const record: EncodedRecord = { topic, partition: letter.partition % limits.partitions, key, value, headers, bytes: recordBytes(key, value, headers) };
  if (fitsAlone(record, limits.maxMessageBytes)) return record;
  const trimmed = { ...headers, 'x-tidings-value-dropped': `${value?.length ?? 0} bytes, over the max.message.bytes of ${topic}` };
  return { ...record, value: null, headers: trimmed, bytes: recordBytes(key, null, trimmed) };
}

/** A dead letter for a record that failed with `err`: a Tidings error's code, or the client's error type. */
export function deadLetterOf(where: { topic: string; partition: number; offset: string }, message: KafkaMessage, err: unknown): DeadLetter {
  const failure = err instanceof TidingsError ? err : new ProcessingError(err instanceof Error ? err.message : String(err), { cause: err });
  const { type, code } = (err ?? {}) as { type?: unknown; code?: unknown };
  // A client's own name for the failure says more than ours: a Kafka error type, a Postgres SQLSTATE.
  const name = !(failure instanceof ProcessingError) ? failure.code : typeof type === 'string' ? type : typeof code === 'string' ? `SQLSTATE_${code}` : failure.code;
  return { ...where, message, error: { code: name, reason: failure.message } };
}

/** Headers that carry a dead letter's reason and origin. */
export function deadLetterHeaders(letter: DeadLetter, processor: string, now: number): Record<string, string> {
  const original: Record<string, string> = headerStrings(letter.message.headers);
  return {
    ...original,
    'x-tidings-error-code': letter.error.code,
    'x-tidings-error-reason': letter.error.reason.slice(0, 2_000),
    'x-tidings-original-topic': letter.topic,
    'x-tidings-original-partition': String(letter.partition),
    'x-tidings-original-offset': letter.offset,
    'x-tidings-original-timestamp': letter.message.timestamp,
    'x-tidings-processor': processor,
    'x-tidings-dead-lettered-at': new Date(now).toISOString(),
  };
}
