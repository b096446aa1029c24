/**
 * Wires the scheduler: notification.timers (from dedupe) → its timer table,
 * kept per owned partition and restored from the notification.scheduled
 * changelog (the same table mechanism as dedupe); on the runner's wall-clock
 * tick, due timers → notification.events, each with its tombstone on the
 * changelog, in one Kafka transaction: a due timer fires once across crashes
 * and rebalances (the transactional id of its partition fences a previous
 * owner, whose uncommitted fire is aborted and fires again here), a
 * cancelled one never.
 */
import type { Kafka } from '../../kafka/client.ts';
import { fromTopic, type Codec } from '../../kafka/codec.ts';
import { TOPICS, type TopicNames } from '../../kafka/topics.ts';
import type { ProcessorSpec } from '../../kafka/runner.ts';
import type { ProcessorState } from '../../processor.ts';
import type { OutRecord } from '../../kafka/transactional-sink.ts';
import { transactionalSpec } from '../adapter.ts';
import { createTable } from '../../kafka/table.ts';
import type { Logger } from '../../logger.ts';
import { eventKey } from '../../model/notification.ts';
import type { Timer } from '../../model/timer.ts';
import { assertNever } from '../../assert-never.ts';
import { decideTick, decideTimer, type SchedulerOutput, type SchedulerState } from './decide.ts';

const FIRE_BATCH = 500; // outputs of one tick's transaction at most; the rest fire on the next tick

export interface SchedulerDeps {
  kafka: Kafka;
  codec: Codec;
  topics: TopicNames;
  prefix: string;
  /** ms between two ticks (TIDINGS_SCHEDULER_TICK_MS) */
  tickMs: number;
  /** ms a cancel is remembered (TIDINGS_SCHEDULER_CANCEL_RETENTION_MS) */
  cancelRetentionMs: number;
  log: Logger;
}

export function schedulerProcessor(deps: SchedulerDeps): ProcessorSpec<SchedulerOutput, SchedulerState> {
  const { topics } = deps;
  const table = createTable<Timer>({
    kafka: deps.kafka,
    topic: topics.scheduled,
    decode: (value) => deps.codec.decode(TOPICS.scheduled.value, value),
    log: deps.log,
  });
  const view = (partition: number): SchedulerState => ({
    get: (key) => table.get(partition, key),
    entries: () => table.entries(partition),
    cancelRetentionMs: deps.cancelRetentionMs,
  });

  const state: ProcessorState<SchedulerState, SchedulerOutput> = {
    prepare: (partition, keepAlive) => table.load(partition, keepAlive),
    view,
    evolve(partition, outputs) {
      for (const output of outputs) {
        if (output.kind === 'put') table.stage(partition, output.timer.timer_key, output.timer);
        else if (output.kind === 'fire' || output.kind === 'forget') table.stage(partition, output.timerKey, undefined);
      }
    },
    punctuate: (partition, ctx) => decideTick(view(partition), ctx, FIRE_BATCH),
    commit: (partition) => table.commit(partition),
    rollback: (partition) => table.rollback(partition),
    reset: () => table.reset(),
  };

  const toRecords = (output: SchedulerOutput, partition: number): OutRecord[] => {
    switch (output.kind) {
      case 'put':
        return [{ topic: topics.scheduled, key: output.timer.timer_key, value: output.timer, partition }];
      case 'ignore':
        return [];
      case 'fire':
        return [
          { topic: topics.events, key: eventKey(output.event), value: output.event, headers: { 'tidings-timer': output.timerKey } },
          { topic: topics.scheduled, key: output.timerKey, value: null, partition },
        ];
      case 'forget':
        return [{ topic: topics.scheduled, key: output.timerKey, value: null, partition }];
      default:
        return assertNever(output);
    }
  };

  return {
    ...transactionalSpec('scheduler', deps, toRecords),
    decide: (record, current) => decideTimer(fromTopic(record, topics, ['timers']).value, current),
    state,
    tickMs: deps.tickMs,
  };
}
