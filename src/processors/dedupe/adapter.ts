/**
 * Wires the dedupe processor: notification.events → notification.accepted,
 * notification.timers (delayed events and cancels, for the scheduler) and
 * the notification.dedupe changelog, one Kafka transaction per batch. Its state
 * is a table per owned partition, restored from the changelog's partition of
 * the same number (changelog records are written to the input's partition).
 */
import type { Kafka } from '../../kafka/client.ts';
import { fromTopic, type Codec } from '../../kafka/codec.ts';
import { TOPICS, type TopicNames } from '../../kafka/topics.ts';
import type { ProcessorSpec } from '../../kafka/runner.ts';
import type { ProcessorState } from '../../processor.ts';
import type { OutRecord } from '../../kafka/transactional-sink.ts';
import { transactionalSpec } from '../adapter.ts';
import { clusterLimits, partitionOfKey } from '../../kafka/client.ts';
import { createTable } from '../../kafka/table.ts';
import type { Logger } from '../../logger.ts';
import type { Recipient } from '../../model/routing.ts';
import type { GlobalTable } from '../../kafka/global-table.ts';
import { assertNever } from '../../assert-never.ts';
import { decideDedupe, expireDedupe, type DedupeOutput, type DedupeState } from './decide.ts';

const EXPIRY_EVERY = 60_000; // ms between expiry scans of a partition
const EXPIRY_BATCH = 500; // tombstones per scan at most

export interface DedupeDeps {
  kafka: Kafka;
  codec: Codec;
  topics: TopicNames;
  prefix: string;
  /** ms a source key is remembered */
  windowMs: number;
  /** ms an event of the type waits when it names no delivery time (agent_offline: TIDINGS_AGENT_OFFLINE_BUFFER_MS) */
  defaultDelays: Readonly<Record<string, number>>;
  /** every user's roles and topics, for audiences naming roles or topics */
  directory: GlobalTable<Recipient>;
  log: Logger;
}

export function dedupeProcessor(deps: DedupeDeps): ProcessorSpec<DedupeOutput, DedupeState> {
  const { topics } = deps;
  // Only when each key was first seen: a DedupeEntry object and its notification id per key took several times the memory, for every key of the window.
  const table = createTable<number>({
    kafka: deps.kafka,
    topic: topics.dedupe,
    decode: async (value) => (await deps.codec.decode(TOPICS.dedupe.value, value)).first_seen_at,
    log: deps.log,
  });
  const lastExpiry = new Map<number, number>();
  // Partitions of notification.events, read from the cluster when a partition is first prepared.
  let eventPartitions: number | undefined;

  const state: ProcessorState<DedupeState, DedupeOutput> = {
    async prepare(partition, keepAlive) {
      eventPartitions ??= (await clusterLimits(deps.kafka).topic(topics.events)).partitions;
      await table.load(partition, keepAlive);
    },
    view: (partition) => ({
      windowMs: deps.windowMs,
      firstSeenAt: (key) => table.get(partition, key),
      members: (roles, topics, all) => membersOf(deps.directory, roles, topics, all),
      partitionOf: (key) => partitionOfKey(key, eventPartitions ?? 1),
      defaultDelays: deps.defaultDelays,
    }),
    evolve(partition, outputs) {
      for (const output of outputs) {
        if (output.kind === 'remember') table.stage(partition, output.entry.source_key, output.entry.first_seen_at);
        else if (output.kind === 'forget') table.stage(partition, output.sourceKey, undefined);
      }
    },
    afterBatch(partition, ctx) {
      if (ctx.now - (lastExpiry.get(partition) ?? 0) < EXPIRY_EVERY) return [];
      lastExpiry.set(partition, ctx.now);
      return expireDedupe(table.entries(partition), ctx.now, deps.windowMs, EXPIRY_BATCH);
    },
    commit: (partition) => table.commit(partition),
    rollback: (partition) => table.rollback(partition),
    reset() {
      table.reset();
      lastExpiry.clear();
    },
  };

  const toRecords = (output: DedupeOutput, partition: number): OutRecord[] => {
    switch (output.kind) {
      case 'repartition':
        return [{ topic: topics.events, key: output.key, value: output.event, partition: output.partition }];
      case 'fan_out':
        return [{ topic: topics.events, key: output.key, value: output.event, partition: output.partition }];
      case 'remember':
        return [{ topic: topics.dedupe, key: output.entry.source_key, value: output.entry, partition }];
      case 'accepted':
        return [{ topic: topics.accepted, key: output.notification.user_id, value: output.notification }];
      case 'duplicate':
        return [];
      case 'timer':
        return [{ topic: topics.timers, key: output.timer.timer_key, value: output.timer }];
      case 'forget':
        return [{ topic: topics.dedupe, key: output.sourceKey, value: null, partition }];
      default:
        return assertNever(output);
    }
  };

  return {
    ...transactionalSpec('dedupe', deps, toRecords),
    decide: (record, view, ctx) => decideDedupe({ ...record, value: fromTopic(record, topics, ['events']).value }, view, ctx),
    state,
  };
}

/** Users holding any of `roles` or subscribed to any of `topics` (every one with `all`), in user id order. */
function membersOf(directory: GlobalTable<Recipient>, roles: readonly string[], topics: readonly string[], all: boolean): string[] {
  const found: string[] = [];
  for (const [userId, r] of directory.entries()) {
    if (all || r.roles.some((role) => roles.includes(role)) || r.topics.some((topic) => topics.includes(topic))) found.push(userId);
  }
  return found.sort();
}
