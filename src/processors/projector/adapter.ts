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
import { applyRead, insertNotifications } from '../../db/notifications.ts';
import { putPreferences } from '../../db/preferences.ts';
import { putRecipient } from '../../db/recipients.ts';
import { putWebhooks } from '../../db/webhooks.ts';
import { insertAudits } from '../../db/audit-log.ts';
import { putDeliveryResult } from '../../db/delivery-attempts.ts';
import { assertNever } from '../../assert-never.ts';
import type { Notification } from '../../model/notification.ts';
import type { AuditEvent } from '../../model/routing.ts';
import { fromBeginning, groupId as groupIdOf, PROCESSORS, sourcesOf } from '../../topology.ts';
import { decideProjection, type ProjectorInput, type ProjectorOutput } from './decide.ts';


const PROJECTOR_BATCH_RECORDS = 2_000;
const PROJECTOR_BATCH_BYTES = 2 * 1024 * 1024;
export interface ProjectorDeps {
  pool: Pool;
  publisher: Publisher;
  topics: TopicNames;
  prefix: string;
  /** after each database commit: the partition, the records it applied and the offset stored (the gateway's waits and crash tests hook in here) */
  afterCommit?: (batch: { topic: string; partition: number; records: number; nextOffset: string }) => void;
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
    // A Postgres transaction per batch: larger batches, fewer commits (a rebuild: ~2x the rate of 100-record batches).
    batch: { records: PROJECTOR_BATCH_RECORDS, bytes: PROJECTOR_BATCH_BYTES },
    sink: createProjectionSink<ProjectorOutput>({
      pool: deps.pool,
      groupId,
      deadLetter: (batch) => deps.publisher.deadLetter(topics[PROCESSORS.projector.deadLetters], batch.deadLetters, 'projector'),
      afterCommit: deps.afterCommit && ((batch) => deps.afterCommit?.({ topic: batch.topic, partition: batch.partition, records: batch.items.length, nextOffset: batch.nextOffset })),
      applyOutputs: async (client, outputs) => {
        // A run of notifications or audit events (a batch of notification.inbox or .audit) is one statement; the rest one each, in order.
        let notifications: { n: Notification; at: { partition: number; offset: string } }[] = [];
        let audits: AuditEvent[] = [];
        const flush = async () => {
          await insertNotifications(client, notifications);
          await insertAudits(client, audits);
          notifications = [];
          audits = [];
        };
        for (const { output, at } of outputs) {
          if (output.kind === 'insert_notification') {
            if (audits.length > 0) await flush();
            notifications.push({ n: output.notification, at });
            continue;
          }
          if (output.kind === 'insert_audit') {
            if (notifications.length > 0) await flush();
            audits.push(output.event);
            continue;
          }
          await flush();
          switch (output.kind) {
            case 'apply_read': await applyRead(client, output.event, at); break;
            case 'put_preferences': await putPreferences(client, output.userId, output.value); break;
            case 'put_recipient': await putRecipient(client, output.userId, output.value); break;
            case 'put_webhooks': await putWebhooks(client, output.userId, output.value); break;
            case 'put_delivery_result': await putDeliveryResult(client, output.result); break;
            default: assertNever(output);
          }
        }
        await flush();
      },
    }),
  };
}
