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
 * The lane itself (transaction, retry tiers, DLQ, attempt cache) is the
 * channel-neutral one of src/processors/delivery/adapter.ts; this is webhooks'
 * part: skipping disabled endpoints, and for an endpoint that is gone or has
 * only failed for too long, the endpoint set with it disabled plus a
 * webhook_failure notification to its owner, in the same transaction.
 */
import type { Kafka } from '../../kafka/client.ts';
import type { Codec } from '../../kafka/codec.ts';
import type { Tiers, TopicNames } from '../../kafka/topics.ts';
import type { ProcessorSpec } from '../../kafka/runner.ts';
import type { OutRecord } from '../../kafka/transactional-sink.ts';
import type { Logger } from '../../logger.ts';
import type { Pool } from '../../db/pool.ts';
import { failingSince } from '../../db/delivery-attempts.ts';
import { endpointOf, findWebhook, listWebhooks } from '../../db/webhooks.ts';
import { webhookTarget, type DeliveryCommand, type WebhookEndpoint, type WebhookEndpoints } from '../../model/routing.ts';
import { eventKey, type NotificationEvent } from '../../model/notification.ts';
import type { Sender } from '../../channels/webhook/sender.ts';
import { assertNever } from '../../assert-never.ts';
import { deliveryLane, skippedResult, type AttemptStep, type Settled } from '../delivery/adapter.ts';
import { commandToAttempt, settle, type RetryPolicy } from './decide.ts';

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

/** Webhooks' own outputs: endpoint changes resolved against the read model. */
type EndpointChange =
  | { kind: 'endpoints'; value: WebhookEndpoints }
  | { kind: 'event'; event: NotificationEvent };

type Written = Settled | EndpointChange;

export function webhookProcessor(deps: WebhookDeps): ProcessorSpec<AttemptStep> {
  const { topics, lane } = deps;
  const clock = deps.clock ?? Date.now;
  const log = deps.log.child({ processor: lane });

  const toRecords = (output: EndpointChange): OutRecord[] => {
    switch (output.kind) {
      case 'endpoints':
        return [{ topic: topics.webhooks, key: output.value.user_id, value: output.value }];
      case 'event':
        return [{ topic: topics.events, key: eventKey(output.event), value: output.event }];
      default:
        return assertNever(output);
    }
  };

  /** The disabling of an endpoint as records: its owner's endpoint set with it turned off, and the owner told. */
  const disable = async (userId: string, endpointId: string, reason: string): Promise<Written[]> => {
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

  const carryOut = async (command: DeliveryCommand): Promise<Written[]> => {
    const routed = commandToAttempt(command).target;
    // First attempts follow the router's word (it routes to enabled endpoints
    // only; an endpoint disabled since answers 410 again, which changes nothing).
    // Retries, a few, go to the endpoint as it is now: deleted or disabled gets
    // nothing more, a new URL, secret or headers are used.
    const current = routed.global || lane === 'webhook' ? undefined : await findWebhook(deps.pool, command.user_id, routed.endpoint_id);
    const gone = lane === 'webhook-retry' && !routed.global && (current === undefined || !current.enabled);
    const target = current ? webhookTarget(endpointOf(current)) : routed;
    const outcome = gone
      ? { kind: 'not-attempted' as const, reason: current === undefined ? 'the endpoint was deleted' : 'the endpoint is disabled' }
      : await deps.sender.attempt(command, target, { timeoutMs: target.timeout_ms, waitMs: Math.min(target.timeout_ms, deps.waitMs), lane: lane === 'webhook' ? 'first' : 'retry' });
    if (gone && outcome.kind === 'not-attempted') return [skippedResult(command, outcome.reason, clock())];
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

  return deliveryLane<EndpointChange>({
    name: lane, kafka: deps.kafka, codec: deps.codec, topics, tiers: deps.tiers, prefix: deps.prefix, clock,
    retryTopic: 'deliveryWebhookRetry', dlqTopic: 'deliveryWebhookDlq',
    channel: { accept: (command) => void commandToAttempt(command), attempt: carryOut, toRecords },
  });
}
