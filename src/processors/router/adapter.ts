/**
 * Wires the router: notification.accepted joined with the preference,
 * recipient and webhook tables of the same partition (co-partitioned by
 * user_id) → notification.inbox, delivery commands and audit events, one Kafka
 * transaction per batch. The inbox record goes to the input's partition
 * number (same key, same partition count), so per-user order holds. Each table is restored from its compacted topic when its partition
 * is assigned, then kept current by reading that topic as an input.
 */
import type { Kafka } from '../../kafka/client.ts';
import { fromTopic, type Codec } from '../../kafka/codec.ts';
import { topicSchema, type TopicNames, type TopicValue } from '../../kafka/topics.ts';
import type { InputValue, ProcessorSpec } from '../../kafka/runner.ts';
import type { InputRecord, ProcessorState } from '../../processor.ts';
import type { OutRecord } from '../../kafka/transactional-sink.ts';
import { transactionalSpec } from '../adapter.ts';
import { createTable, type Table } from '../../kafka/table.ts';
import type { Logger } from '../../logger.ts';
import { emailPriority, type PreferenceSet, type Recipient, type WebhookEndpoints } from '../../model/routing.ts';
import { assertNever } from '../../assert-never.ts';
import { PROCESSORS } from '../../topology.ts';
import { decideRouter, type GlobalWebhook, type RouterInput, type RouterOutput, type RouterState, type TableName } from './decide.ts';

export interface RouterDeps {
  kafka: Kafka;
  codec: Codec;
  topics: TopicNames;
  prefix: string;
  globalWebhook: GlobalWebhook | undefined;
  log: Logger;
}

type TableValue = PreferenceSet | Recipient | WebhookEndpoints;

export function routerProcessor(deps: RouterDeps): ProcessorSpec<RouterOutput, RouterState> {
  const { topics } = deps;
  const inputKeys = PROCESSORS.router.sources.map((s) => s.topic);
  const table = <K extends TableName>(name: K): Table<TopicValue<K>> => createTable<TopicValue<K>>({
    kafka: deps.kafka,
    topic: topics[name],
    decode: (value) => deps.codec.decode(topicSchema(name), value),
    log: deps.log,
  });
  const tables = { preferences: table('preferences'), recipients: table('recipients'), webhooks: table('webhooks') };
  // RouterOutput's table value is not tied to its table name; decideRouter stages each table's own type (Table's methods take V bivariantly, so this widening compiles).
  const staged: Record<TableName, Table<TableValue>> = tables;
  const all = Object.values(tables);

  const state: ProcessorState<RouterState, RouterOutput> = {
    prepare: async (partition, keepAlive) => { await Promise.all(all.map((t) => t.load(partition, keepAlive))); },
    view: (partition) => ({
      preferences: (userId) => tables.preferences.get(partition, userId),
      recipient: (userId) => tables.recipients.get(partition, userId),
      webhooks: (userId) => tables.webhooks.get(partition, userId),
      restoredPast: (table, offset) => BigInt(offset) < tables[table].restoredTo(partition),
      globalWebhook: deps.globalWebhook,
    }),
    evolve(partition, outputs) {
      for (const output of outputs) {
        if (output.kind === 'table') staged[output.table].stage(partition, output.userId, output.value ?? undefined);
      }
    },
    commit: (partition) => all.forEach((t) => t.commit(partition)),
    rollback: (partition) => all.forEach((t) => t.rollback(partition)),
    reset: () => all.forEach((t) => t.reset()),
  };

  const toInput = (record: InputRecord<InputValue>): RouterInput => {
    const input = fromTopic(record, topics, inputKeys);
    if (input.from === 'accepted') return { kind: 'notification', notification: input.value };
    if (record.key === null) throw new TypeError(`unexpected router input from ${record.topic}: no key`);
    const at = { userId: record.key, offset: record.offset };
    switch (input.from) {
      case 'preferences': return { kind: 'preferences', value: input.value, ...at };
      case 'recipients': return { kind: 'recipients', value: input.value, ...at };
      case 'webhooks': return { kind: 'webhooks', value: input.value, ...at };
      default: return assertNever(input);
    }
  };

  const toRecords = (output: RouterOutput): OutRecord[] => {
    switch (output.kind) {
      case 'table':
        return [];
      case 'inbox':
        return [{ topic: topics.inbox, key: output.notification.user_id, value: output.notification }];
      case 'deliver':
        if (output.command.channel === 'webhook') return [{ topic: topics.deliveryWebhook, key: output.command.user_id, value: output.command }];
        if (emailPriority(output.command.notification) === 'high') return [{ topic: topics.deliveryEmailPriority, key: output.command.user_id, value: output.command }];
        return [{ topic: topics.deliveryEmail, key: output.command.user_id, value: output.command }];
      case 'audit':
        return [{ topic: topics.audit, key: output.event.user_id, value: output.event }];
      case 'skipped':
        return [];
      default:
        return assertNever(output);
    }
  };

  return {
    ...transactionalSpec('router', deps, toRecords),
    decide: (record, view, ctx) => decideRouter(toInput(record), view, ctx),
    state,
  };
}
