/**
 * A dead letter as a record of its dead-letter topic: the original key, value
 * and headers, the reason headers (deadLetterHeaders), on the partition of the
 * same number as the original's. A value too large for the dead-letter topic
 * is left out and said so; the original stays readable at the topic,
 * partition and offset the headers name until its retention ends.
 */
import { deadLetterHeaders } from './runner.ts';
import { fitsAlone, recordBytes } from './produce-plan.ts';
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
