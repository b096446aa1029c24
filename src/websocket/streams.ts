/**
 * Each user's notification stream as the gateway sees it: the user's
 * partition of notification.inbox (keyed by user id), the epoch of that
 * partition's offsets, and how far this gateway has pushed on it. Positions
 * in frames and resume requests are made of these.
 */
import { createHash } from 'node:crypto';
import { partitionOfKey } from '../kafka/client.ts';
import type { StreamPosition } from './protocol.ts';

export interface InboxStreamsOptions {
  /** the Kafka cluster's id: a new cluster starts its offsets again */
  clusterId: string;
  /** notification.inbox's name */
  topic: string;
  /** its next offset per partition when this gateway started (where it begins pushing) */
  startAt: readonly { partition: number; offset: string }[];
}

export interface InboxStreams {
  /** The user's partition of the inbox topic. */
  partitionOf(userId: string): number;
  /** The epoch of a partition's offsets. */
  epoch(partition: number): string;
  /** The next offset this gateway will push on the partition: everything before it has been pushed. */
  next(partition: number): bigint;
  /** Records that the gateway pushed the partition's records before `nextOffset`. */
  advance(partition: number, nextOffset: string): void;
  /** Where the user's stream stands here: the offset before the next one to push. */
  current(userId: string): StreamPosition;
}

export function createInboxStreams(options: InboxStreamsOptions): InboxStreams {
  const partitions = options.startAt.length;
  const next = new Map(options.startAt.map((p) => [p.partition, BigInt(p.offset)]));
  // The partition count is part of the epoch: with another count, a user's records go to another partition.
  const epochs = new Map(options.startAt.map((p) => [p.partition, epochOf(options.clusterId, options.topic, partitions, p.partition)]));
  const streams: InboxStreams = {
    partitionOf: (userId) => partitionOfKey(userId, partitions),
    epoch: (partition) => epochs.get(partition) ?? epochOf(options.clusterId, options.topic, partitions, partition),
    next: (partition) => next.get(partition) ?? 0n,
    advance(partition, nextOffset) {
      const offset = BigInt(nextOffset);
      if (offset > (next.get(partition) ?? 0n)) next.set(partition, offset);
    },
    current(userId) {
      const partition = streams.partitionOf(userId);
      return { epoch: streams.epoch(partition), offset: String(streams.next(partition) - 1n) };
    },
  };
  return streams;
}

/** 16 base64url characters naming the offsets of one partition of one topic, with its partition count, in one cluster. */
export function epochOf(clusterId: string, topic: string, partitions: number, partition: number): string {
  return createHash('sha256').update(`${clusterId}\n${topic}\n${partitions}\n${partition}`).digest('base64url').slice(0, 16);
}
