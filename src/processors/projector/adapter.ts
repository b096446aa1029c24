/** Wires the projector to the runner: notification.accepted → Postgres, offsets stored with the rows. */
import type { TopicNames } from '../../kafka/topics.ts';
import type { ProcessorSpec } from '../../kafka/runner.ts';
import type { Publisher } from '../../kafka/publisher.ts';
import type { Pool } from '../../db/pool.ts';
import { createProjectionSink } from '../../db/projection-sink.ts';
import { insertNotification } from '../../db/notifications.ts';
import type { Notification } from '../../model/notification.ts';
import { assertNever } from '../../assert-never.ts';
import { decideProjection, type ProjectorOutput } from './decide.ts';

export function projectorProcessor(deps: { pool: Pool; publisher: Publisher; topics: TopicNames; prefix: string }): ProcessorSpec<Notification, ProjectorOutput> {
  const groupId = `${deps.prefix}tidings.projector`;
  return {
    name: 'projector',
    groupId,
    inputs: [{ topic: deps.topics.accepted, schema: 'Notification' }],
    fromBeginning: true,
    decide: (record) => decideProjection(record.value),
    sink: createProjectionSink<ProjectorOutput>({
      pool: deps.pool,
      groupId,
      deadLetter: (batch) => deps.publisher.deadLetter(deps.topics.acceptedDlq, batch.deadLetters, 'projector'),
      applyOutput: async (client, output, at) => {
        switch (output.kind) {
          case 'insert_notification':
            await insertNotification(client, output.notification, at);
            return;
          default:
            assertNever(output.kind);
        }
      },
    }),
  };
}
