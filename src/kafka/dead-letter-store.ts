/**
 * Dead letters for operators, straight from Kafka (no read model): a page of
 * one DLQ's letters, newest first, joined with notification.dlq.redrives, and
 * redriving letters back to where they came from. Every read is a throwaway
 * consumer that commits nothing (readRanges); the redrive records are a small
 * compacted topic, read whole each time.
 *
 * A redrive writes the letter back, then its redrive record, with the
 * publisher's idempotent producer but not in one transaction: a crash between
 * the two leaves the letter unmarked, and redriving it again sends it twice
 * (webhook receivers see the same webhook-id; dedupe drops a repeated event).
 */
import type { Kafka } from './client.ts';
import { partitionOffsets } from './client.ts';
import type { Codec } from './codec.ts';
import type { Publisher } from './publisher.ts';
import { TOPICS, type TopicNames } from './topics.ts';
import { readRanges, type OffsetRange, type RawTopicRecord } from './read-range.ts';
import {
  bytesView, displaySchema, DLQ_TOPICS, holdsDeliveries, letterView, matchesFilter, pageNewestFirst, planRedrive, redriveKey,
  type DlqName, type Letter, type LetterFilter, type PartitionWindow, type ValueView,
} from './dead-letter-view.ts';
import type { DeadLetterRedrive } from '../model/dead-letter-redrive.ts';
import { assertNever } from '../assert-never.ts';
import { errorKind, NotFoundError, ValidationError } from '../errors.ts';

/** letters one redrive call writes at most; the report says how many more there were */
export const REDRIVE_MAX = 1_000;
/** offsets of each partition a filtered page looks through at most (an unfiltered one: four times its limit, at least 200) */
const FILTERED_SCAN = 10_000;

export type RedriveSelection =
  | { letters: readonly { partition: number; offset: string }[] }
  | { endpointId: string }
  | { all: true };

export interface RedriveReport {
  redriven: number;
  /** letters redriven before, left alone without `force` */
  skipped: number;
  /** letters that cannot go back, with why */
  refused: { partition: number; offset: string; reason: string }[];
  /** letters of the selection beyond REDRIVE_MAX, for the next call */
  remaining: number;
}

export interface DeadLetterStore {
  /** A page of letters, newest first, and the positions the next page reads below (null: none). */
  list(dlq: DlqName, query: { limit: number; before?: Map<number, bigint>; filter?: LetterFilter }): Promise<{ letters: Record<string, unknown>[]; next: Map<number, bigint> | null }>;
  /** Redrives the selected letters (oldest first), skipping those redriven before unless `force`. */
  redrive(dlq: DlqName, selection: RedriveSelection, options: { force?: boolean; by: string }): Promise<RedriveReport>;
}

export function createDeadLetterStore(deps: { kafka: Kafka; codec: Codec; publisher: Publisher; topics: TopicNames }): DeadLetterStore {
  const { kafka, codec, publisher, topics } = deps;
  const partitions = async (topic: string) => (await partitionOffsets(kafka, topic)).map((p) => ({ partition: p.partition, low: BigInt(p.low), high: BigInt(p.high) }));

  /** Decodes a webhook or e-mail letter's command; a value that is not one stays undecoded. */
  const toLetter = async (dlq: DlqName, r: RawTopicRecord): Promise<Letter> => {
    const letter: Letter = { partition: r.partition, offset: r.offset, timestamp: r.timestamp, key: r.key?.toString('utf8') ?? null, value: r.value, headers: r.headers };
    if (!holdsDeliveries(dlq) || r.value === null) return letter;
    try {
      return { ...letter, command: await codec.decode('DeliveryCommand', r.value) };
    } catch (err) {
      if (errorKind(err) !== 'poison') throw err;
      return letter;
    }
  };

  /** The redrive records of one DLQ, by key. */
  const redrives = async (dlqBase: string): Promise<Map<string, DeadLetterRedrive>> => {
    const found = new Map<string, DeadLetterRedrive>();
    const ranges = (await partitions(topics.dlqRedrives)).map((p) => ({ partition: p.partition, from: p.low, to: p.high }));
    await readRanges(kafka, topics.dlqRedrives, ranges, async (r) => {
      const key = r.key?.toString('utf8');
      if (!key?.startsWith(`${dlqBase}:`)) return;
      if (r.value === null) {
        found.delete(key);
        return;
      }
      try {
        found.set(key, await codec.decode('DeadLetterRedrive', r.value));
      } catch (err) {
        if (errorKind(err) !== 'poison') throw err; // a record no one can read marks nothing
      }
    });
    return found;
  };

  const valueOf = async (dlq: DlqName, letter: Letter): Promise<ValueView | null> => {
    if (letter.value === null) return null;
    const bytes = letter.value.length;
    // A delivery is shown as `delivery`, without its secrets and with its address masked; its bytes hold them, decodable or not.
    if (holdsDeliveries(dlq)) return { bytes, withheld: 'a DeliveryCommand may hold secrets and addresses' };
    const shown = displaySchema(topics, letter);
    if (shown === undefined) return bytesView(letter.value);
    if ('withheld' in shown) return { bytes, withheld: shown.withheld };
    try {
      return { bytes, schema: shown.schema, decoded: await codec.decode(shown.schema, letter.value) };
    } catch (err) {
      if (errorKind(err) !== 'poison') throw err;
      return bytesView(letter.value);
    }
  };

  return {
    async list(dlq, { limit, before, filter = {} }) {
      const key = DLQ_TOPICS[dlq];
      const topic = topics[key];
      const filtered = Object.values(filter).some((v) => v !== undefined);
      const span = BigInt(filtered ? FILTERED_SCAN : Math.max(limit * 4, 200));
      const [layout, redriven] = await Promise.all([partitions(topic), redrives(TOPICS[key].base)]);
      const windows = new Map<number, PartitionWindow>();
      const ranges: OffsetRange[] = [];
      for (const { partition, low, high } of layout) {
        const bound = before ? (before.get(partition) ?? low) : high;
        const upper = bound > high ? high : bound < low ? low : bound;
        const from = upper - span > low ? upper - span : low;
        windows.set(partition, { partition, letters: [], floor: from, low, upper });
        ranges.push({ partition, from, to: upper });
      }
      await readRanges(kafka, topic, ranges, async (r) => {
        const letter = await toLetter(dlq, r);
        const window = windows.get(r.partition);
        if (!window || !matchesFilter(letter, filter)) return;
        window.letters.push(letter);
        // At most `limit` of one partition can be on the page: keep its newest, and read the rest next page.
        if (window.letters.length > limit) {
          window.letters.shift();
          window.floor = (window.letters[0] as Letter).offset;
        }
      });
      for (const w of windows.values()) w.letters.reverse();
      const { page, next } = pageNewestFirst([...windows.values()], limit);
      const letters = await Promise.all(page.map(async (l) => letterView(l, await valueOf(dlq, l), redriven.get(redriveKey(TOPICS[key].base, l.partition, l.offset)))));
      return { letters, next };
    },

    async redrive(dlq, selection, { force = false, by }) {
      const key = DLQ_TOPICS[dlq];
      const topic = topics[key];
      const base = TOPICS[key].base;
      if ('endpointId' in selection && dlq !== 'webhook') throw new ValidationError(['endpoint_id: only letters of the webhook DLQ have an endpoint']);
      const [layout, redriven] = await Promise.all([partitions(topic), redrives(base)]);
      let ranges = layout.map((p) => ({ partition: p.partition, from: p.low, to: p.high }));
      let wanted: Set<string> | undefined;
      if ('letters' in selection) {
        if (selection.letters.length > REDRIVE_MAX) throw new ValidationError([`letters: at most ${REDRIVE_MAX} a call`]);
        wanted = new Set(selection.letters.map((l) => `${l.partition}:${BigInt(l.offset)}`));
        ranges = ranges.flatMap((range) => {
          const offsets = selection.letters.filter((l) => l.partition === range.partition).map((l) => BigInt(l.offset));
          if (offsets.length === 0) return [];
          const from = offsets.reduce((a, b) => (b < a ? b : a));
          const to = offsets.reduce((a, b) => (b > a ? b : a)) + 1n;
          return [{ partition: range.partition, from: from > range.from ? from : range.from, to: to < range.to ? to : range.to }];
        });
      }
      const found = new Set<string>();
      const chosen: Letter[] = [];
      const report: RedriveReport = { redriven: 0, skipped: 0, refused: [], remaining: 0 };
      await readRanges(kafka, topic, ranges, async (r) => {
        const ref = `${r.partition}:${r.offset}`;
        if (wanted && !wanted.has(ref)) return;
        found.add(ref);
        const letter = await toLetter(dlq, r);
        if ('endpointId' in selection && !matchesFilter(letter, { endpointId: selection.endpointId })) return;
        if (!force && redriven.has(redriveKey(base, r.partition, r.offset))) report.skipped++;
        else if (chosen.length >= REDRIVE_MAX) report.remaining++;
        else chosen.push(letter);
      });
      const missing = [...(wanted ?? [])].filter((ref) => !found.has(ref));
      if (missing.length > 0) throw new NotFoundError(`no dead letter ${missing.join(', ')} on ${topic}`);

      chosen.sort((a, b) => a.partition - b.partition || (a.offset < b.offset ? -1 : 1));
      for (const letter of chosen) {
        const plan = planRedrive(dlq, letter, topics);
        switch (plan.kind) {
          case 'refused':
            report.refused.push({ partition: letter.partition, offset: letter.offset.toString(), reason: plan.reason });
            continue;
          case 'raw':
            await publisher.publishRaw(topics[plan.to], plan.key, plan.value, plan.headers);
            break;
          case 'delivery':
            await publisher.publish(topics[plan.to], letter.key ?? plan.command.user_id, plan.command, plan.headers);
            break;
          default:
            assertNever(plan);
        }
        await publisher.publish(topics.dlqRedrives, redriveKey(base, letter.partition, letter.offset), {
          dlq_topic: base, partition: letter.partition, offset: letter.offset.toString(), redriven_to: TOPICS[plan.to].base, redriven_at: Date.now(), by,
        });
        report.redriven++;
      }
      return report;
    },
  };
}
