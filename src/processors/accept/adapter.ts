/** Wires decideAccept to the runner: notification.events → notification.accepted, one Kafka transaction per batch. */
import type { Kafka } from '../../kafka/client.ts';
import type { Codec } from '../../kafka/codec.ts';
import type { TopicNames } from '../../kafka/topics.ts';
import type { ProcessorSpec } from '../../kafka/runner.ts';
import { createTransactionalSink } from '../../kafka/transactional-sink.ts';
import type { NotificationEvent } from '../../model/notification.ts';
import { assertNever } from '../../assert-never.ts';
import { decideAccept, type AcceptOutput } from './decide.ts';

export function acceptProcessor(deps: { kafka: Kafka; codec: Codec; topics: TopicNames; prefix: string }): ProcessorSpec<NotificationEvent, AcceptOutput> {
  const groupId = `${deps.prefix}tidings.accept`;
  return {
    name: 'accept',
    groupId,
    input: { topic: deps.topics.events, schema: 'NotificationEvent' },
    fromBeginning: true,
    decide: (record, ctx) => decideAccept(record.value, ctx),
    sink: createTransactionalSink<AcceptOutput>({
      kafka: deps.kafka,
      codec: deps.codec,
      processor: 'accept',
      groupId,
      transactionalIdPrefix: groupId,
      deadLetterTopic: deps.topics.eventsDlq,
      toRecords: (output) => {
        switch (output.kind) {
          case 'accepted':
            return [{ topic: deps.topics.accepted, key: output.notification.user_id, value: output.notification }];
          default:
            return assertNever(output.kind);
        }
      },
    }),
  };
}
