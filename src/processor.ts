/**
 * The contract between the runner (src/kafka/runner.ts) and the parts it
 * runs: what a decide function gets, what a sink is handed, what a processor's
 * state does. Types only, so that processors' decide functions, src/kafka and
 * src/db can all depend on it without depending on each other.
 */

/** What a decide function may know of the world: time and ids, passed in. */
export interface DecideContext {
  /** ms since the epoch */
  readonly now: number;
  /** a random UUID */
  newId(): string;
  /** a UUIDv5 of `name`: the same name always yields the same id */
  stableId(name: string): string;
}

export interface InputRecord<I> {
  topic: string;
  partition: number;
  offset: string;
  key: string | null;
  value: I;
  headers: Readonly<Record<string, string>>;
}

/** A consumed record as it came from the broker, undecoded (what a kafkajs KafkaMessage holds). */
export interface RawRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers?: Readonly<Record<string, Buffer | string | (Buffer | string)[] | undefined>>;
  /** ms since the epoch, as a decimal string */
  timestamp: string;
}

/** A record that could not be processed, on its way to a dead-letter topic. */
export interface DeadLetter {
  topic: string;
  partition: number;
  offset: string;
  message: RawRecord;
  error: { code: string; reason: string };
}

/** A record ready to be produced: encoded, with its partition chosen. */
export interface EncodedRecord {
  topic: string;
  partition: number;
  key: Buffer | string | null;
  value: Buffer | null;
  headers?: Record<string, string>;
  /** estimated bytes of the record inside a record batch */
  bytes: number;
}

export interface SinkBatch<O> {
  topic: string;
  partition: number;
  /** outputs of each record that was decided, in offset order, encoded when the sink encodes */
  items: { offset: string; outputs: O[]; encoded?: EncodedRecord[] }[];
  deadLetters: DeadLetter[];
  /** the offset to resume from after this batch ('' for a punctuation) */
  nextOffset: string;
  /** outputs of the runner's wall-clock tick (ProcessorState.punctuate), not of input records: no input offsets to commit */
  punctuation?: true;
}

/**
 * What a stateful processor knows between records, per partition it owns.
 * Changes are staged while a batch is decided and kept only once the sink has
 * committed the batch.
 */
export interface ProcessorState<S, O> {
  /**
   * Loads what deciding this partition's records needs (restores a table);
   * calls `keepAlive` as it goes, so that a long restore does not cost the
   * member its place in the group.
   */
  prepare(partition: number, keepAlive: () => void): Promise<void>;
  /** the state decide gets */
  view(partition: number): S;
  /** applies one record's outputs to the state, staged */
  evolve(partition: number, outputs: readonly O[]): void;
  /** outputs due at the end of a batch, such as expiry tombstones */
  afterBatch?(partition: number, ctx: DecideContext): O[];
  /**
   * Outputs due by the clock, whether records arrive or not (Kafka Streams'
   * wall-clock punctuation): called every ProcessorSpec.tickMs for each owned
   * partition, and written like a batch's outputs, without input offsets.
   */
  punctuate?(partition: number, ctx: DecideContext): O[];
  commit(partition: number): void;
  rollback(partition: number): void;
  /** forgets everything; called on every rebalance */
  reset(): void;
}

/** What a sink's apply did, when it did not write every item. */
export interface Applied {
  /** how many of the batch's first items were already written, and were not written again */
  skipped: number;
}

export interface Sink<O> {
  /**
   * How input offsets are committed: inside the sink's own transaction
   * ('sink'), by the runner to Kafka after the sink applied the batch
   * ('after-apply'; the sink keeps the truth elsewhere), or never ('none').
   */
  readonly offsets: 'sink' | 'after-apply' | 'none';
  /** Called before a batch of a partition is decided, e.g. to fence a previous owner. */
  prepare?(topic: string, partition: number): Promise<void>;
  /** Offsets to start from on assignment, when the sink keeps them itself. */
  startOffsets?(topic: string, partitions: number[]): Promise<{ partition: number; offset: string }[]>;
  /**
   * Encodes one record's outputs as they are decided, so that outputs that can
   * never be written (too large for their topic, say) dead-letter that record
   * alone; throws a poison error for them.
   */
  encode?(outputs: readonly O[], partition: number): Promise<EncodedRecord[]>;
  /**
   * Writes one partition's batch; must be atomic with its offsets when
   * `offsets` is 'sink'. A sink that keeps its own offsets may find the first
   * items already written (before a crash) and say how many it skipped.
   */
  apply(batch: SinkBatch<O>): Promise<Applied | void>;
  close(): Promise<void>;
}
