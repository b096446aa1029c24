/**
 * Wires webhook delivery, in two lanes of the same logic:
 * - `webhook` reads notification.delivery.webhook and makes each delivery's
 *   first attempt, skipping endpoints whose circuit is open;
 * - `webhook-retry` reads the retry tiers (notification.delivery.webhook.retry.<delay>):
 *   a record waits, its partition paused, until the due time in its headers,
 *   then is attempted (one probe at a time to an endpoint with an open circuit).
 * A batch waits for an attempt at most TIDINGS_WEBHOOK_INLINE_TIMEOUT_MS; a
 * request still open then stays open up to the endpoint's timeout and the
 * delivery's next attempt takes its answer (src/channels/webhook/sender.ts),
 * so one slow or dead endpoint cannot hold back the deliveries read with it.
 *
 * Each attempt's outcome (settle) becomes, in one Kafka transaction with the
 * input offset: its delivery result, the command on its next tier or in the
 * DLQ, and for an endpoint that is gone or has only failed for too long, the
 * endpoint set with it disabled plus a webhook_failure notification to its
 * owner. The HTTP request itself is at least once: a crash before the commit
 * repeats it, with the same webhook-id.
 */
import type { Kafka } from '../../kafka/client.ts';
import type { Codec } from '../../kafka/codec.ts';
import { delayLabel, type Tiers, type TopicName, type TopicNames } from '../../kafka/topics.ts';
import type { ProcessorSpec } from '../../kafka/runner.ts';
import type { Sink } from '../../processor.ts';
import { createTransactionalSink, type OutRecord } from '../../kafka/transactional-sink.ts';
import type { Logger } from '../../logger.ts';
import type { Pool } from '../../db/pool.ts';
import { failingSince } from '../../db/delivery-attempts.ts';
import { endpointOf, findWebhook, listWebhooks } from '../../db/webhooks.ts';
import type { DeliveryCommand, WebhookEndpoint, WebhookEndpoints } from '../../model/routing.ts';
import { eventKey, type NotificationEvent } from '../../model/notification.ts';
import type { Sender } from '../../channels/webhook/sender.ts';
import { assertNever } from '../../assert-never.ts';
import { fromBeginning, groupId as groupIdOf, PROCESSORS, sinkTopicsOf, sourcesOf } from '../../topology.ts';
import { commandToAttempt, settle, type RetryPolicy, type WebhookOutput } from './decide.ts';

export type Lane = 'webhook' | 'webhook-retry';

export interface WebhookDeps {
  lane: Lane;
  kafka: Kafka;
  codec: Codec;
  pool: Pool;
  topics: TopicNames;
  tiers: Tiers;
  prefix: string;
  sender: Sender;
  policy: RetryPolicy;
  /** ms a batch waits for one attempt's answer (the request itself may stay open for the endpoint's timeout) */
  waitMs: number;
  /** ms of only failures after which an endpoint is disabled */
  disableAfterMs: number;
  log: Logger;
  clock?: () => number;
}

/** What decide hands the sink: one attempt to make. */
export interface AttemptStep { kind: 'attempt'; command: DeliveryCommand }

/** What an attempt becomes once made, endpoint changes resolved against the read model. */
type Written =
  | Exclude<WebhookOutput, { kind: 'disable' }>
  | { kind: 'endpoints'; value: WebhookEndpoints }
  | { kind: 'event'; event: NotificationEvent };

export const DUE_AT_HEADER = 'x-tidings-due-at';
export const ATTEMPT_HEADER = 'x-tidings-attempt';

export function webhookProcessor(deps: WebhookDeps): ProcessorSpec<AttemptStep> {
  const { topics, lane } = deps;
  const clock = deps.clock ?? Date.now;
  const log = deps.log.child({ processor: lane });
  const groupId = groupIdOf(lane, deps.prefix);
  const tierTopic = (ms: number) => `${topics.deliveryWebhookRetry}.${delayLabel(ms)}` as TopicName<'deliveryWebhookRetry'>;
  const inputs = sourcesOf(lane, topics, deps.tiers);
  const inputTopics = new Set(inputs.map((i) => i.topic));

  const toRecords = (output: Written): OutRecord[] => {
    switch (output.kind) {
      case 'result':
        return [{ topic: topics.deliveryResults, key: output.result.user_id, value: output.result }];
      case 'retry':
        return [{ topic: tierTopic(output.tierMs), key: output.command.user_id, value: output.command, headers: {
          [DUE_AT_HEADER]: String(output.dueAt), [ATTEMPT_HEADER]: String(output.command.attempt), 'x-tidings-last-error': output.lastError.slice(0, 1_000),
        } }];
      case 'dead':
        return [{ topic: topics.deliveryWebhookDlq, key: output.command.user_id, value: output.command, headers: {
          'x-tidings-error-code': output.code, 'x-tidings-error-reason': output.reason.slice(0, 2_000),
          'x-tidings-status': output.status === null ? '' : String(output.status), 'x-tidings-attempts': String(output.command.attempt),
          'x-tidings-processor': lane, 'x-tidings-dead-lettered-at': new Date(output.at).toISOString(),
        } }];
      case 'endpoints':
        return [{ topic: topics.webhooks, key: output.value.user_id, value: output.value }];
      case 'event':
        return [{ topic: topics.events, key: eventKey(output.event), value: output.event }];
      default:
        return assertNever(output);
    }
  };

  // Endpoints this process disabled (until it restarts; the router stops routing to them once it reads the change).
  const turnedOff = new Set<string>();

  /** The disabling of an endpoint as records: its owner's endpoint set with it turned off, and the owner told. */
  const disable = async (userId: string, endpointId: string, reason: string): Promise<Written[]> => {
    turnedOff.add(`${userId}\u0000${endpointId}`);
    const rows = await listWebhooks(deps.pool, userId);
    const row = rows.find((r) => r.endpoint_id === endpointId);
    if (!row || !row.enabled) return []; // deleted or already off: nothing to turn off
    const now = clock();
    const endpoints: WebhookEndpoint[] = rows.map(endpointOf).map((e) => (e.id === endpointId ? { ...e, enabled: false, disabled_reason: reason } : e));
    const host = URL.canParse(row.url) ? new URL(row.url).host : 'its URL';
    const event: NotificationEvent = {
      event_id: null, user_id: userId, audience: null, type: 'webhook_failure', severity: 'error',
      title: `Webhook ${endpointId} disabled`,
      message: `Tidings stopped delivering to webhook ${endpointId} (${host}): ${reason}. Fix the endpoint, then enable it again (POST /v1/webhooks/${endpointId}/enable).`,
      data: JSON.stringify({ endpoint_id: endpointId, host, reason }), action_url: null,
      source_type: 'webhook', source_id: `${endpointId}:disabled:${row.updated_at.getTime()}`, occurred_at: now,
    };
    return [{ kind: 'endpoints', value: { user_id: userId, endpoints, updated_at: now } }, { kind: 'event', event }];
  };

  const carryOut = async ({ command }: AttemptStep): Promise<Written[]> => {
    const { target } = commandToAttempt(command);
    // An endpoint disabled since the command was routed gets nothing more. First
    // attempts follow the router's word (it routes to enabled endpoints only) and
    // what this process disabled itself; retries, a few, ask the read model too.
    const disabledHere = turnedOff.has(`${command.user_id}\u0000${target.endpoint_id}`);
    const current = target.global || lane === 'webhook' ? undefined : await findWebhook(deps.pool, command.user_id, target.endpoint_id);
    const outcome = !target.global && (disabledHere || (current !== undefined && !current.enabled))
      ? { kind: 'not-attempted' as const, reason: 'the endpoint is disabled' }
      : await deps.sender.attempt(command, target, { timeoutMs: target.timeout_ms, waitMs: Math.min(target.timeout_ms, deps.waitMs), lane: lane === 'webhook' ? 'first' : 'retry' });
    if (outcome.kind === 'not-attempted' && outcome.reason === 'the endpoint is disabled') {
      return [{ kind: 'result', result: {
        delivery_id: command.delivery_id, notification_id: command.notification.id, user_id: command.user_id, channel: 'webhook',
        endpoint_id: target.endpoint_id, attempt: command.attempt, outcome: 'skipped', status: null, error: outcome.reason,
        latency_ms: null, next_attempt_at: null, at: clock(),
      } }];
    }
    const now = clock();
    const settled = settle(command, outcome, deps.policy, { now });
    if (outcome.kind !== 'answered' || outcome.status >= 300) {
      log.info({ deliveryId: command.delivery_id, endpoint: target.endpoint_id, attempt: command.attempt, outcome }, 'webhook attempt failed');
    }
    const written: Written[] = [];
    let disabled = false;
    for (const output of settled) {
      if (output.kind === 'disable') {
        written.push(...(await disable(output.userId, output.endpointId, output.reason)));
        disabled = true;
      } else {
        written.push(output);
      }
    }
    const failed = settled.some((o) => o.kind === 'result' && o.result.outcome !== 'sent');
    if (failed && !disabled && !target.global) {
      const since = await failingSince(deps.pool, command.user_id, target.endpoint_id);
      if (since !== undefined && now - since >= deps.disableAfterMs) {
        written.push(...(await disable(command.user_id, target.endpoint_id, `it has only failed since ${new Date(since).toISOString()}`)));
      }
    }
    return written;
  };

  const inner = createTransactionalSink<Written>({
    kafka: deps.kafka, codec: deps.codec, processor: lane, groupId, transactionalIdPrefix: groupId,
    outputs: sinkTopicsOf(lane, topics, deps.tiers), deadLetterTopic: topics[PROCESSORS[lane].deadLetters], toRecords, clock,
  });
  // What each record's attempt came to, until its transaction commits: a
  // retried or narrowed-down write sends nothing again.
  const made = new Map<string, Map<string, Written[]>>();
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
          outputs = (await Promise.all(item.outputs.map(carryOut))).flat();
          cache.set(item.offset, outputs);
        }
        return { offset: item.offset, outputs };
      }));
      await inner.apply({ ...batch, items });
      for (const item of batch.items) cache.delete(item.offset);
    },
    close: () => inner.close(),
  };

  return {
    name: lane,
    groupId,
    inputs,
    fromBeginning: fromBeginning(lane),
    decide: (record) => {
      if (!inputTopics.has(record.topic)) throw new TypeError(`unexpected ${lane} input from ${record.topic}`);
      // Every input of both lanes is a DeliveryCommand topic (src/topology.ts).
      const command = record.value as DeliveryCommand;
      commandToAttempt(command);
      return [{ kind: 'attempt', command }];
    },
    dueAt: lane === 'webhook-retry' ? ({ headers }) => {
      const due = Number(headers[DUE_AT_HEADER]);
      return Number.isFinite(due) ? due : undefined;
    } : undefined,
    sink,
  };
}
