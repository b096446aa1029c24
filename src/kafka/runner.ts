/**
 * The one processor runner: decode → decide → hand the outputs to a sink,
 * which writes them and commits the input offsets the way its guarantee needs
 * (one Kafka transaction, one Postgres transaction, or nothing for live views).
 * Poison records go to a dead-letter topic with the reason; transient failures
 * are retried; anything else stops the processor and is reported to the owner.
 */
import { randomUUID } from 'node:crypto';
import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs';
import type { Kafka } from './client.ts';
import type { Codec } from './codec.ts';
import type { SchemaName, SchemaValue } from './topics.ts';
import { withRetry, DEFAULT_RETRY } from './retry.ts';
import { coPartitionedAssigner } from './co-partitioned-assigner.ts';
import { errorKind, mayBeCausedByInput } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Applied, DecideContext, InputRecord, ProcessorState, Sink, SinkBatch } from '../processor.ts';
import { stableId } from '../model/ids.ts';
import { processorMeter, type Metrics } from '../metrics.ts';
import { fetchSizer, headerStrings, takeShare } from './batch-share.ts';
import { deadLetterOf } from './dead-letters.ts';

/**
 * A decoded input value: the schema type of its topic, or null for a tombstone
 * where its input passes them. An adapter narrows it by topic with fromTopic.
 */
export type InputValue = SchemaValue<SchemaName> | null;

export interface ProcessorSpec<O extends Output, S = undefined> {
  /** processor name: part of its consumer group, transactional ids and logs */
  name: string;
  groupId: string;
  /** topics read, co-partitioned: partition p of each goes to the same member; `tombstones` passes null values through */
  inputs: readonly { topic: string; schema: SchemaName; tombstones?: boolean }[];
  /** pure logic; throws a poison TidingsError for input it must reject */
  decide(record: InputRecord<InputValue>, state: S, ctx: DecideContext): O[];
  sink: Sink<O>;
  state?: ProcessorState<S, O>;
  /** start from the beginning of the log when the group has no offsets (false: from the end) */
  fromBeginning: boolean;
  /**
   * When a record may be processed (ms since the epoch; undefined: now). A
   * record not yet due waits, and every record after it on its partition: the
   * partition is paused until then, so the group keeps its heartbeats and the
   * other partitions flow (retry topics).
   */
  dueAt?(record: { topic: string; headers: Readonly<Record<string, string>> }): number | undefined;
  /**
   * For a sink with a send rate (e-mail): how many of `wanted` records of
   * `topic` it takes now and, when fewer, when to ask again (ms since the
   * epoch). The partition is paused until then and the rest fetched again, so
   * consumption waits while a rate limit holds.
   */
  room?(topic: string, wanted: number): { take: number; retryAt: number };
  /**
   * Batches of one partition number of different inputs may run side by side
   * (nothing they write depends on each other, as in the delivery lanes). By
   * default they run one after another: co-partitioned inputs share state, or a
   * read model (the projector's notification and its delivery results).
   */
  topicsSideBySide?: boolean;
  /**
   * Records and bytes of a partition one batch takes at most. By default
   * BATCH_RECORDS and BATCH_BYTES, small, so that a burst on one partition
   * holds back the others' next fetch little; a sink whose cost is per batch
   * (the projector's Postgres transaction) takes more.
   */
  batch?: { records: number; bytes: number };
  /**
   * ms between two wall-clock ticks: every tick, state.punctuate is called for
   * each partition this member owns, and what it returns is written like a
   * batch's outputs (the scheduler's due timers). None: no ticks.
   */
  tickMs?: number;
  /**
   * Called once at start with the deployment's metrics (RunnerDeps.metrics),
   * for what only the processor's sink sees (a delivery lane's results).
   */
  instrument?(metrics: Metrics): void;
}

export interface RunnerDeps {
  kafka: Kafka;
  codec: Codec;
  log: Logger;
  /** called once when the processor stops on an error it cannot handle */
  onCrash(err: Error): void;
  clock?: () => number;
  /** ms without a heartbeat before the group gives a member's partitions away (also how long a killed member holds them) */
  sessionTimeoutMs?: number;
  /** ms a fetch waits at the broker for records (DEFAULT_FETCH_MAX_WAIT without); also the longest a stop waits for it */
  fetchMaxWaitMs?: number;
  /** where the runner counts what ProcessorStats counts (and the batch durations); nothing without */
  metrics?: Metrics;
}

/** Every output is a discriminated union on `kind`; the runner counts them by it. */
type Output = { readonly kind: string };

/** What a processor committed, counted once by the runner after each successful sink write. */
export interface ProcessorStats {
  /** input records written (a sink's skipped records, written before a crash, not counted) */
  records: number;
  /** records skipped by the sink as already written */
  skipped: number;
  deadLettered: number;
  batches: number;
  /** outputs of the written records, by kind */
  outputs: Record<string, number>;
}

export interface RunningProcessor {
  readonly name: string;
  readonly groupId: string;
  readonly stats: Readonly<ProcessorStats>;
  /** resolves when the consumer first joined its group and got its partitions */
  readonly ready: Promise<void>;
  stop(): Promise<void>;
}

export async function startProcessor<O extends Output, S = undefined>(spec: ProcessorSpec<O, S>, deps: RunnerDeps): Promise<RunningProcessor> {
  const log = deps.log.child({ processor: spec.name });
  const inputs = new Map(spec.inputs.map((i) => [i.topic, i]));
  const clock = deps.clock ?? Date.now;
  const stats: ProcessorStats = { records: 0, skipped: 0, deadLettered: 0, batches: 0, outputs: {} };
  const meter = deps.metrics ? processorMeter(deps.metrics, spec.name) : undefined;
  if (deps.metrics) spec.instrument?.(deps.metrics);
  let stopping = false;

  const fetchSizes = fetchSizer(spec.batch);
  const consumer: Consumer = deps.kafka.consumer({
    groupId: spec.groupId,
    sessionTimeout: deps.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT,
    heartbeatInterval: Math.max(500, Math.floor((deps.sessionTimeoutMs ?? DEFAULT_SESSION_TIMEOUT) / 10)), // ms
    allowAutoTopicCreation: false,
    maxWaitTimeInMs: deps.fetchMaxWaitMs ?? DEFAULT_FETCH_MAX_WAIT,
    // About what a batch takes (fetchSizer): what it does not take is fetched again. A function per partition: patches/kafkajs.
    maxBytesPerPartition: fetchSizes.bytes as unknown as number,
    readUncommitted: false, // see only committed transactions
    retry: { retries: 10, initialRetryTime: 300 },
    partitionAssigners: [coPartitionedAssigner],
  });

  // Partitions of the first input this member owns, for the ticks.
  let owned: readonly number[] = [];
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => { owned = payload.memberAssignment[spec.inputs[0]?.topic ?? ''] ?? []; });

  let markReady: () => void = () => {};
  const ready = new Promise<void>((resolve) => { markReady = resolve; });
  // The member's heartbeat, from the latest batch: a restore started on
  // assignment keeps the member alive with it while a batch waits on it.
  let memberHeartbeat: () => void = () => {};
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    // Another instance may have owned a partition since we last did: state is restored again.
    spec.state?.reset();
    log.info({ assignment: payload.memberAssignment }, 'partitions assigned');
    // Every assigned partition is made ready at once (its transactional producer
    // initialised, then its state restored), not on its first batch: kafkajs
    // fetches again only when every batch of a fetch is done, so a partition's
    // first batch paying for both would hold back all the others. A batch awaits
    // the same work (both are memoised) and reports a failure itself.
    // Stateless processors (delivery lanes with a topic per retry tier) keep their producers lazy.
    if (!spec.state) return;
    const topicsOf = new Map<number, string[]>();
    for (const { topic } of spec.inputs) {
      for (const partition of payload.memberAssignment[topic] ?? []) topicsOf.set(partition, [...(topicsOf.get(partition) ?? []), topic]);
    }
    for (const [partition, topics] of topicsOf) {
      void preparePartition(topics, partition, () => memberHeartbeat())
        .catch((err: unknown) => log.warn({ err, partition }, 'preparing a partition on assignment failed; its first batch tries again'));
    }
  });

  /** The partition's transactional producers first (they fence a previous owner), then its state. */
  const preparePartition = async (topics: readonly string[], partition: number, keepAlive: () => void): Promise<void> => {
    await Promise.all(topics.map((topic) => spec.sink.prepare?.(topic, partition)));
    await spec.state?.prepare(partition, keepAlive);
  };

  if (spec.sink.startOffsets) {
    const startOffsets = spec.sink.startOffsets.bind(spec.sink);
    consumer.on(consumer.events.GROUP_JOIN, async ({ payload }) => {
      try {
        for (const { topic } of spec.inputs) {
          const partitions = payload.memberAssignment[topic] ?? [];
          if (partitions.length === 0) continue;
          for (const { partition, offset } of await startOffsets(topic, partitions)) consumer.seek({ topic, partition, offset });
        }
      } catch (err) {
        // The sink also skips what it already holds, so a missed seek only costs a re-read.
        log.warn({ err }, 'could not read stored offsets on assignment');
      }
      markReady();
    });
  } else {
    consumer.on(consumer.events.GROUP_JOIN, () => markReady());
  }

  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (!payload.restart && !stopping) {
      log.error({ err: payload.error }, 'processor stopped');
      deps.onCrash(payload.error);
    }
  });

  const serial = partitionSerialiser();
  const serialKey = (batch: EachBatchPayload['batch']) => (spec.topicsSideBySide ? `${batch.topic}:${batch.partition}` : String(batch.partition));
  const resumeTimers = new Set<NodeJS.Timeout>();
  const handleBatch = (payload: EachBatchPayload) => serial(serialKey(payload.batch), async () => {
    try {
      await processBatch(payload);
    } catch (err) {
      // Nothing staged while deciding a batch that did not commit may survive it.
      spec.state?.rollback(payload.batch.partition);
      throw err;
    }
  });

  const processBatch = async ({ batch, resolveOffset, heartbeat, isRunning, isStale, commitOffsetsIfNecessary, pause }: EachBatchPayload) => {
    // kafkajs sends a heartbeat only when one is due; a failed one (a rebalance) is noticed at the end of the batch.
    const keepAlive = () => { heartbeat().catch(() => undefined); };
    memberHeartbeat = keepAlive;
    await preparePartition([batch.topic], batch.partition, keepAlive);
    const go = () => isRunning() && !isStale();
    if (!go() || batch.messages.length === 0) return;
    fetchSizes.observe(batch.topic, batch.messages);
    // A bounded share of the batch, due and with room in the sink (batch-share.ts); the rest is fetched again.
    const { ready: share, waitUntil } = takeShare(batch.topic, batch.messages, spec, clock());
    if (waitUntil !== undefined) {
      // The rest is fetched again once the partition is resumed.
      const resume = pause();
      const timer = setTimeout(() => { resumeTimers.delete(timer); resume(); }, Math.max(0, waitUntil - clock()));
      resumeTimers.add(timer);
    }
    if (share.length === 0) return;
    await writeRange(batch.topic, batch.partition, share, go, keepAlive);
    const last = share[share.length - 1];
    if (!last || !go()) return;
    resolveOffset(last.offset);
    if (spec.sink.offsets === 'after-apply') await commitOffsetsIfNecessary();
    await heartbeat();
  };

  /**
   * Decides and writes records of one partition, in order. When the sink
   * refuses them with an error that the records themselves may cause, the
   * range is split in halves and each written alone, down to single records,
   * which are dead-lettered with the error: no input can stop the processor.
   */
  const writeRange = async (topic: string, partition: number, messages: readonly KafkaMessage[], go: () => boolean, keepAlive: () => void): Promise<void> => {
    const started = performance.now();
    const sinkBatch = await decideRange(topic, partition, messages);
    const decided = performance.now();
    let applied: Applied | void;
    try {
      applied = await withRetry(() => spec.sink.apply(sinkBatch), {
        ...DEFAULT_RETRY,
        // After a rebalance the partition may be another member's: a retry would
        // initialise its transactional id again and fence the new owner.
        shouldStop: () => stopping || !go(),
        onRetry: (err, attempt, delayMs) => {
          keepAlive();
          log.warn({ err, attempt, delayMs, partition }, 'sink failed, retrying');
        },
      });
    } catch (err) {
      spec.state?.rollback(partition);
      if (stopping || !go() || !mayBeCausedByInput(err)) throw err;
      const [only] = messages;
      if (messages.length === 1 && only) {
        const letter = deadLetterOf({ topic, partition, offset: only.offset }, only, err);
        log.warn({ topic, partition, offset: only.offset, code: letter.error.code, reason: letter.error.reason }, 'the sink refused this record alone; dead-lettering it');
        const alone: SinkBatch<O> = { topic, partition, items: [], deadLetters: [letter], nextOffset: nextOffsetAfter(only) };
        await withRetry(() => spec.sink.apply(alone), { ...DEFAULT_RETRY, shouldStop: () => stopping });
        count(alone, 0, started);
        return;
      }
      log.warn({ err, topic, partition, records: messages.length, from: messages[0]?.offset }, 'the sink refused a batch; narrowing it down');
      const half = Math.ceil(messages.length / 2);
      for (const part of [messages.slice(0, half), messages.slice(half)]) {
        if (!go()) return;
        await writeRange(topic, partition, part, go, keepAlive);
        keepAlive();
      }
      return;
    }
    spec.state?.commit(partition);
    log.debug({ topic, partition, records: messages.length, decideMs: Math.round(decided - started), writeMs: Math.round(performance.now() - decided) }, 'batch written');
    count(sinkBatch, applied?.skipped ?? 0, started);
  };

  /** Counts what a successful sink write committed: once, whatever retries and splits it took. `started`: performance.now() when its deciding began. */
  const count = (written: SinkBatch<O>, skipped: number, started: number) => {
    const items = written.items.slice(skipped);
    const records = written.punctuation ? 0 : items.length; // a tick's outputs are of no input record
    stats.records += records;
    stats.skipped += skipped;
    stats.deadLettered += written.deadLetters.length;
    stats.batches += 1;
    const outputs: Record<string, number> = {};
    for (const item of items) for (const { kind } of item.outputs) outputs[kind] = (outputs[kind] ?? 0) + 1;
    for (const [kind, n] of Object.entries(outputs)) stats.outputs[kind] = (stats.outputs[kind] ?? 0) + n;
    meter?.written({ records, skipped, deadLetters: written.deadLetters.length, outputs, seconds: (performance.now() - started) / 1_000 });
  };

  /** Decode → decide → encode → evolve, record by record; a record that fails for any reason but a transient one becomes a dead letter. */
  const decideRange = async (topic: string, partition: number, messages: readonly KafkaMessage[]): Promise<SinkBatch<O>> => {
    const state = spec.state;
    const input = inputs.get(topic);
    if (!input) throw new TypeError(`${topic} is not an input of ${spec.name}`);
    const sinkBatch: SinkBatch<O> = { topic, partition, items: [], deadLetters: [], nextOffset: '' };
    // One clock reading and view for the batch: its records are decided within milliseconds of each other.
    const ctx = decideContext(clock);
    const view = state ? state.view(partition) : (undefined as S);
    for (const message of messages) {
      const where = { topic, partition, offset: message.offset };
      try {
        // Without an await where the writer schema is known: one promise fewer per record.
        const value: InputValue = message.value === null && input.tombstones ? null : deps.codec.decodeKnown(input.schema, message.value) ?? await deps.codec.decode(input.schema, message.value);
        const record = { ...where, key: message.key?.toString('utf8') ?? null, value, headers: headerStrings(message.headers) };
        const outputs = spec.decide(record, view, ctx);
        const encoded = await spec.sink.encode?.(outputs, partition);
        state?.evolve(partition, outputs);
        sinkBatch.items.push({ offset: message.offset, outputs, encoded });
      } catch (err) {
        if (errorKind(err) === 'transient') throw err;
        const letter = deadLetterOf(where, message, err);
        if (errorKind(err) === 'poison') log.warn({ ...where, code: letter.error.code, reason: letter.error.reason }, 'dead-lettering record');
        else log.error({ ...where, err }, 'processing a record failed on a bug; dead-lettering it');
        sinkBatch.deadLetters.push(letter);
      }
    }
    const last = messages[messages.length - 1];
    if (!last) throw new TypeError('decideRange needs at least one record');
    const due = state?.afterBatch?.(partition, decideContext(clock)) ?? [];
    if (due.length > 0) {
      const encoded = await spec.sink.encode?.(due, partition);
      state?.evolve(partition, due);
      sinkBatch.items.push({ offset: last.offset, outputs: due, encoded });
    }
    sinkBatch.nextOffset = nextOffsetAfter(last);
    return sinkBatch;
  };

  /**
   * One wall-clock tick of a partition, in turn with its batches: the state's
   * punctuation outputs, written in one sink write without input offsets. A
   * failure is logged and the next tick tries again.
   */
  const ticking = new Set<number>();
  const tick = (partition: number) => {
    const punctuate = spec.state?.punctuate?.bind(spec.state);
    const topic = spec.inputs[0]?.topic;
    if (!punctuate || topic === undefined || ticking.has(partition)) return;
    ticking.add(partition);
    const stillOwned = () => !stopping && owned.includes(partition);
    void serial(spec.topicsSideBySide ? `${topic}:${partition}` : String(partition), async () => {
      if (!stillOwned()) return;
      const started = performance.now();
      await preparePartition([topic], partition, () => memberHeartbeat());
      const outputs = punctuate(partition, decideContext(clock));
      if (outputs.length === 0) return;
      const encoded = await spec.sink.encode?.(outputs, partition);
      spec.state?.evolve(partition, outputs);
      const batch: SinkBatch<O> = { topic, partition, items: [{ offset: '', outputs, encoded }], deadLetters: [], nextOffset: '', punctuation: true };
      await withRetry(() => spec.sink.apply(batch), { ...DEFAULT_RETRY, shouldStop: () => !stillOwned() });
      spec.state?.commit(partition);
      count(batch, 0, started);
    }).catch((err: unknown) => {
      spec.state?.rollback(partition);
      if (stillOwned()) log.warn({ err, partition }, 'a tick failed; the next one tries again');
    }).finally(() => ticking.delete(partition));
  };
  const ticker = spec.tickMs === undefined ? undefined : setInterval(() => { for (const partition of owned) tick(partition); }, spec.tickMs);
  ticker?.unref();

  await consumer.connect();
  await consumer.subscribe({ topics: spec.inputs.map((i) => i.topic), fromBeginning: spec.fromBeginning });
  await consumer.run({
    autoCommit: spec.sink.offsets === 'after-apply',
    eachBatchAutoResolve: false,
    // Partitions side by side; batches of one partition number (of
    // co-partitioned inputs) one after another, see partitionSerialiser.
    partitionsConsumedConcurrently: PARTITIONS_IN_FLIGHT,
    eachBatch: handleBatch,
  });
  log.info({ groupId: spec.groupId }, 'processor started');

  return {
    name: spec.name,
    groupId: spec.groupId,
    stats,
    ready,
    async stop() {
      stopping = true;
      if (ticker) clearInterval(ticker);
      for (const timer of resumeTimers) clearTimeout(timer);
      resumeTimers.clear();
      // disconnect lets the in-flight batch finish, then leaves the group.
      await consumer.disconnect();
      await spec.sink.close();
      log.info(stats, 'processor stopped');
    },
  };
}

/** ms; Kafka's smallest allowed session (group.min.session.timeout.ms) is 6 s */
export const DEFAULT_SESSION_TIMEOUT = 6_000;

/** ms; TIDINGS_KAFKA_FETCH_MAX_WAIT_MS's default */
export const DEFAULT_FETCH_MAX_WAIT = 250;

/** Batches of different partitions a processor works on at once. */
const PARTITIONS_IN_FLIGHT = 12;

/**
 * Runs work for one partition number at a time, in arrival order. The state
 * of a partition (ProcessorState stages, commits and rolls back by partition
 * number) is shared by every co-partitioned input, so a batch of
 * notification.preferences p0 must never run beside one of
 * notification.accepted p0; batches of other partitions may.
 */
export function partitionSerialiser(): <T>(partition: number | string, work: () => Promise<T>) => Promise<T> {
  const tails = new Map<number | string, Promise<unknown>>();
  return async (partition, work) => {
    const before = tails.get(partition) ?? Promise.resolve();
    const run = before.then(work, work);
    const tail = run.catch(() => undefined);
    tails.set(partition, tail);
    try {
      return await run;
    } finally {
      if (tails.get(partition) === tail) tails.delete(partition);
    }
  };
}

function decideContext(clock: () => number): DecideContext {
  return {
    now: clock(),
    newId: () => randomUUID(),
    stableId,
  };
}

function nextOffsetAfter(message: KafkaMessage): string {
  return (BigInt(message.offset) + 1n).toString();
}
