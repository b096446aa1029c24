/**
 * Wires the projector: the inbox, reads, the three tables, audit events and delivery results →
 * Postgres, with the consumed offsets stored in the same database transaction.
 * Inbox rows come from notification.inbox, not notification.accepted: the
 * router has already applied the user's in-app preference there, and a
 * rebuild replays that recorded decision.
 */
import type { TopicNames } from '../../kafka/topics.ts';
import { fromTopic } from '../../kafka/codec.ts';
import type { InputValue, ProcessorSpec } from '../../kafka/runner.ts';
import type { InputRecord } from '../../processor.ts';
import type { Publisher } from '../../kafka/publisher.ts';
import type { Pool } from '../../db/pool.ts';
import { createProjectionSink } from '../../db/projection-sink.ts';
import { applyRead, insertNotification } from '../../db/notifications.ts';
import { putPreferences } from '../../db/preferences.ts';
import { putRecipient } from '../../db/recipients.ts';
import { putWebhooks } from '../../db/webhooks.ts';
import { insertAudit } from '../../db/audit-log.ts';
import { putDeliveryResult } from '../../db/delivery-attempts.ts';
import { assertNever } from '../../assert-never.ts';
import { fromBeginning, groupId as groupIdOf, PROCESSORS, sourcesOf } from '../../topology.ts';
import { decideProjection, type ProjectorInput, type ProjectorOutput } from './decide.ts';

export interface ProjectorDeps {
  pool: Pool;
  publisher: Publisher;
  topics: TopicNames;
  prefix: string;
  /** after each database commit, with the records it applied (crash tests hook in here) */
  afterCommit?: (records: number) => void;
}

export function projectorProcessor(deps: ProjectorDeps): ProcessorSpec<ProjectorOutput> {
  const groupId = groupIdOf('projector', deps.prefix);
  const { topics } = deps;
  const inputKeys = PROCESSORS.projector.sources.map((s) => s.topic);

  const toInput = (record: InputRecord<InputValue>): ProjectorInput => {
    const userId = record.key ?? '';
    const input = fromTopic(record, topics, inputKeys);
    switch (input.from) {
      case 'inbox': return { kind: 'notification', notification: input.value };
      case 'reads': return { kind: 'read', event: input.value };
      case 'preferences': return { kind: 'preferences', userId, value: input.value };
      case 'recipients': return { kind: 'recipients', userId, value: input.value };
      case 'webhooks': return { kind: 'webhooks', userId, value: input.value };
      case 'audit': return { kind: 'audit', event: input.value };
      case 'deliveryResults': return { kind: 'result', result: input.value };
      default: return assertNever(input);
    }
  };

  return {
    name: 'projector',
    groupId,
    inputs: sourcesOf('projector', topics),
    fromBeginning: fromBeginning('projector'),
    decide: (record, _state, ctx) => decideProjection(toInput(record), ctx),
    sink: createProjectionSink<ProjectorOutput>({
      pool: deps.pool,
      groupId,
      deadLetter: (batch) => deps.publisher.deadLetter(topics[PROCESSORS.projector.deadLetters], batch.deadLetters, 'projector'),
      afterCommit: deps.afterCommit && ((batch) => deps.afterCommit?.(batch.items.length)),
      applyOutput: async (client, output, at) => {
        switch (output.kind) {
          case 'insert_notification': await insertNotification(client, output.notification, at); return;
          case 'apply_read': await applyRead(client, output.event, at); return;
          case 'put_preferences': await putPreferences(client, output.userId, output.value); return;
          case 'put_recipient': await putRecipient(client, output.userId, output.value); return;
          case 'put_webhooks': await putWebhooks(client, output.userId, output.value); return;
          case 'insert_audit': await insertAudit(client, output.event); return;
          case 'put_delivery_result': await putDeliveryResult(client, output.result); return;
          default: assertNever(output);
        }
      },
    }),
  };
}
