/**
 * What every exactly-once-in-Kafka processor's spec takes from the topology
 * (src/topology.ts): its name, group, sources, where a new group starts, and
 * a transactional sink that may write its declared sinks and dead letters.
 * The adapter adds its decide, state and the records each output becomes.
 */
import type { Kafka } from '../kafka/client.ts';
import type { Codec } from '../kafka/codec.ts';
import type { TopicNames } from '../kafka/topics.ts';
import type { ProcessorSpec } from '../kafka/runner.ts';
import { createTransactionalSink, type OutRecord } from '../kafka/transactional-sink.ts';
import { fromBeginning, groupId, PROCESSORS, sinkTopicsOf, sourcesOf, type ProcessorName } from '../topology.ts';

export interface TransactionalDeps {
  kafka: Kafka;
  codec: Codec;
  topics: TopicNames;
  prefix: string;
}

type Transactional = { [P in ProcessorName]: (typeof PROCESSORS)[P] extends { sink: 'kafka-transaction'; deadLetters: string } ? P : never }[ProcessorName];

/** The topology's part of processor `name`'s spec; `toRecords`: the records an output becomes (`partition`: the input's). */
export function transactionalSpec<O extends { readonly kind: string }>(name: Transactional, deps: TransactionalDeps, toRecords: (output: O, partition: number) => OutRecord[]): Pick<ProcessorSpec<O>, 'name' | 'groupId' | 'inputs' | 'fromBeginning' | 'sink'> {
  const group = groupId(name, deps.prefix);
  return {
    name,
    groupId: group,
    inputs: sourcesOf(name, deps.topics),
    fromBeginning: fromBeginning(name),
    sink: createTransactionalSink<O>({
      kafka: deps.kafka,
      codec: deps.codec,
      processor: name,
      groupId: group,
      transactionalIdPrefix: group,
      outputs: sinkTopicsOf(name, deps.topics),
      deadLetterTopic: deps.topics[PROCESSORS[name].deadLetters],
      toRecords,
    }),
  };
}
