/**
 * One delivery lane, for any channel: it reads delivery commands (a channel's
 * first-attempt topic, or its retry tiers), has the channel attempt each, and
 * writes what the attempt came to in one Kafka transaction with the input
 * offset: the delivery result, the command on its next tier or in the
 * channel's DLQ, and whatever else the channel adds (a webhook endpoint's
 * disabling). A lane reading a tiered family waits for each record's due time
 * (its partition paused by the runner, `dueAt`) before attempting it.
 *
 * What an attempt came to is kept per record until its transaction commits,
 * so a retried or narrowed-down write sends nothing again. The attempt itself
 * is at least once: a crash before the commit repeats it, with the same
 * delivery id (the webhook-id, the e-mail's Message-ID). Results are counted
 * (tidings_deliveries_total) once their transaction committed.
 */
import type { Kafka } from '../../kafka/client.ts';
import type { Codec } from '../../kafka/codec.ts';
import { delayLabel, TOPICS, type Tiers, type TopicName, type TopicNames } from '../../kafka/topics.ts';
import type { ProcessorSpec } from '../../kafka/runner.ts';
import type { Sink } from '../../processor.ts';
import { createTransactionalSink, type OutRecord } from '../../kafka/transactional-sink.ts';
import { DELIVERY_OUTCOMES, type Channel, type DeliveryCommand, type DeliveryResult } from '../../model/routing.ts';
import type { Metrics } from '../../metrics.ts';
import { assertNever } from '../../assert-never.ts';
import { fromBeginning, groupId as groupIdOf, PROCESSORS, sinkTopicsOf, sourcesOf, type ProcessorName } from '../../topology.ts';
import type { WebhookOutput } from '../webhook/decide.ts';

/** What the lane itself writes: a result, a retry, a dead letter (settle's outputs but a channel's own). */
export type Settled = Exclude<WebhookOutput, { kind: 'disable' }>;

/** What decide hands the sink: one attempt to make. */
export interface AttemptStep { kind: 'attempt'; command: DeliveryCommand }

export const DUE_AT_HEADER = 'x-tidings-due-at';
export const ATTEMPT_HEADER = 'x-tidings-attempt';

/** A channel's part of a lane: its check of a command, its attempt, and the records of its own outputs. */
export interface ChannelLane<X extends { kind: string }> {
  /** Throws a ValidationError for a command this channel cannot carry (it is dead-lettered). */
  accept(command: DeliveryCommand): void;
  /** Makes the attempt and says what it came to (settle's outputs, and the channel's own). */
  attempt(command: DeliveryCommand): Promise<(Settled | X)[]>;
  /** The records of the channel's own outputs. */
  toRecords(output: X): OutRecord[];
}

export interface LaneDeps<X extends { kind: string }> {
  name: ProcessorName;
  kafka: Kafka;
  codec: Codec;
  topics: TopicNames;
  tiers: Tiers;
  prefix: string;
  /** the channel's tiered retry family and its DLQ */
  retryTopic: 'deliveryWebhookRetry' | 'deliveryEmailRetry';
  dlqTopic: 'deliveryWebhookDlq' | 'deliveryEmailDlq';
  channel: ChannelLane<X>;
  /** a channel with a send rate: how many records the lane takes now (ProcessorSpec.room) */
  room?: ProcessorSpec<AttemptStep>['room'];
  clock?: () => number;
}

/** The result of a command that was not attempted and will not be (no address, a disabled endpoint). */
export function skippedResult(command: DeliveryCommand, reason: string, at: number): { kind: 'result'; result: DeliveryResult } {
  return { kind: 'result', result: {
    delivery_id: command.delivery_id, notification_id: command.notification.id, user_id: command.user_id, channel: command.channel,
    endpoint_id: command.webhook?.endpoint_id ?? null, attempt: command.attempt, outcome: 'skipped', status: null, error: reason,
    latency_ms: null, next_attempt_at: null, at,
  } };
}

export function deliveryLane<X extends { kind: string }>(deps: LaneDeps<X>): ProcessorSpec<AttemptStep> {
  const { topics, name, channel } = deps;
  const clock = deps.clock ?? Date.now;
  const groupId = groupIdOf(name, deps.prefix);
  // Both channels' retry families and DLQs hold DeliveryCommands: typed as webhooks' for the codec.
  const tierTopic = (ms: number) => `${topics[deps.retryTopic]}.${delayLabel(ms)}` as TopicName<'deliveryWebhookRetry'>;
  const dlqTopic = topics[deps.dlqTopic] as TopicName<'deliveryWebhookDlq'>;
  const inputs = sourcesOf(name, topics, deps.tiers);
  const inputTopics = new Set(inputs.map((i) => i.topic));
  const retrying = PROCESSORS[name].sources.some((s) => 'tiered' in TOPICS[s.topic]);
  const laneChannel: Channel = deps.retryTopic === 'deliveryWebhookRetry' ? 'webhook' : 'email';
  let deliveries: Metrics['deliveries'] | undefined; // set by the runner (instrument)

  const settledRecords = (output: Settled): OutRecord[] => {
    switch (output.kind) {
      case 'result':
        return [{ topic: topics.deliveryResults, key: output.result.user_id, value: output.result }];
      case 'retry':
        return [{ topic: tierTopic(output.tierMs), key: output.command.user_id, value: output.command, headers: {
          [DUE_AT_HEADER]: String(output.dueAt), [ATTEMPT_HEADER]: String(output.command.attempt), 'x-tidings-last-error': output.lastError.slice(0, 1_000),
        } }];
      case 'dead':
        return [{ topic: dlqTopic, key: output.command.user_id, value: output.command, headers: {
          'x-tidings-error-code': output.code, 'x-tidings-error-reason': output.reason.slice(0, 2_000),
          'x-tidings-status': output.status === null ? '' : String(output.status), 'x-tidings-attempts': String(output.command.attempt),
          'x-tidings-processor': name, 'x-tidings-dead-lettered-at': new Date(output.at).toISOString(),
        } }];
      default:
        return assertNever(output);
    }
  };
  const isSettled = (output: Settled | X): output is Settled => ['result', 'retry', 'dead'].includes(output.kind);

  const inner = createTransactionalSink<Settled | X>({
    kafka: deps.kafka, codec: deps.codec, processor: name, groupId, transactionalIdPrefix: groupId,
    outputs: sinkTopicsOf(name, topics, deps.tiers), deadLetterTopic: topics[deps.dlqTopic], clock,
    toRecords: (output) => (isSettled(output) ? settledRecords(output) : channel.toRecords(output)),
  });
  // Each record's attempt, made or under way, until its transaction commits: a
  // write that is retried or narrowed down never sends again, not even while
  // the first try's requests are still open.
  const made = new Map<string, Map<string, Promise<(Settled | X)[]>>>();
  const sink: Sink<AttemptStep> = {
    offsets: 'sink',
    prepare: (topic, partition) => inner.prepare!(topic, partition),
    async apply(batch) {
      const key = `${batch.topic}:${batch.partition}`;
      let byOffset = made.get(key);
      if (!byOffset) {
        byOffset = new Map();
        made.set(key, byOffset);
      }
      const first = BigInt(batch.items[0]?.offset ?? batch.nextOffset);
      for (const offset of byOffset.keys()) if (BigInt(offset) < first) byOffset.delete(offset);
      const cache = byOffset;
      const items = await Promise.all(batch.items.map(async (item) => {
        let outputs = cache.get(item.offset);
        if (!outputs) {
          const attempt = Promise.all(item.outputs.map((step) => channel.attempt(step.command))).then((all) => all.flat());
          // A failed attempt (the read model unreachable, say) is made again by the retried write.
          attempt.catch(() => { if (cache.get(item.offset) === attempt) cache.delete(item.offset); });
          outputs = attempt;
          cache.set(item.offset, attempt);
        }
        return { offset: item.offset, outputs: await outputs };
      }));
      await inner.apply({ ...batch, items });
      for (const item of batch.items) cache.delete(item.offset);
      // Committed: counted once here, however often the write was retried or narrowed down.
      for (const { outputs } of items) {
        for (const output of outputs) if (isSettled(output) && output.kind === 'result') deliveries?.inc({ channel: output.result.channel, outcome: output.result.outcome });
      }
    },
    close: () => inner.close(),
  };

  return {
    name,
    groupId,
    inputs,
    fromBeginning: fromBeginning(name),
    decide: (record) => {
      if (!inputTopics.has(record.topic)) throw new TypeError(`unexpected ${name} input from ${record.topic}`);
      // Every input of a delivery lane is a DeliveryCommand topic (src/topology.ts).
      const command = record.value as DeliveryCommand;
      channel.accept(command);
      return [{ kind: 'attempt', command }];
    },
    dueAt: retrying ? ({ headers }) => {
      const due = Number(headers[DUE_AT_HEADER]);
      return Number.isFinite(due) ? due : undefined;
    } : undefined,
    room: deps.room,
    // Each tier is its own topic: a tier waiting for its due time holds back no other.
    topicsSideBySide: true,
    instrument(metrics) {
      deliveries = metrics.deliveries;
      for (const outcome of DELIVERY_OUTCOMES) deliveries.inc({ channel: laneChannel, outcome }, 0);
    },
    sink,
  };
}
