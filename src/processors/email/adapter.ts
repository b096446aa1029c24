/**
 * Wires e-mail delivery on the delivery lane of src/processors/delivery/adapter.ts
 * (the same retry tiers, results, DLQ and transaction as webhooks), in three lanes:
 * - `email-priority` reads notification.delivery.email.priority (mandatory types
 *   and critical severity, as the router writes them) and makes each first attempt;
 * - `email` the same for every other e-mail (bulk);
 * - `email-retry` reads the retry tiers (notification.delivery.email.retry.<delay>),
 *   each record attempted once it is due.
 * The lanes share one transport pool, so its rate limits hold for all of them.
 * While a limit holds, the bulk lanes take only the records they have room for
 * and pause their partitions until there is more; the priority lane's e-mails
 * wait in the limits instead, where they go before any bulk one: they never
 * queue behind bulk e-mails, in Kafka or in the limiter.
 * The e-mail part: a command without an address is a `skipped` result and is
 * never retried; otherwise the sender renders and sends it (Message-ID from the
 * delivery id, so a repeat after a crash is the same e-mail) and smtpVerdict
 * reads what the server said: 5xx dead-lettered, 4xx and no answer retried.
 */
import type { Kafka } from '../../kafka/client.ts';
import type { Codec } from '../../kafka/codec.ts';
import type { Tiers, TopicNames } from '../../kafka/topics.ts';
import type { ProcessorSpec } from '../../kafka/runner.ts';
import type { Logger } from '../../logger.ts';
import { ValidationError } from '../../errors.ts';
import type { EmailSender } from '../../channels/email/sender.ts';
import type { TransportPool } from '../../channels/email/transport-pool.ts';
import { emailPriority, type DeliveryCommand } from '../../model/routing.ts';
import { smtpVerdict } from '../../channels/email/outcome.ts';
import { deliveryLane, skippedResult, type AttemptStep } from '../delivery/adapter.ts';
import { settle, type RetryPolicy } from '../webhook/decide.ts';

export type EmailLane = 'email-priority' | 'email' | 'email-retry';

export interface EmailDeps {
  lane: EmailLane;
  kafka: Kafka;
  codec: Codec;
  topics: TopicNames;
  tiers: Tiers;
  prefix: string;
  sender: EmailSender;
  /** the transports' rate limits, shared by the lanes */
  pool: Pick<TransportPool, 'room'>;
  policy: RetryPolicy;
  /** ms an attempt may wait for its transport's rate limit before it goes to the retry tiers instead */
  rateWaitMs: number;
  log: Logger;
  clock?: () => number;
}

export function emailProcessor(deps: EmailDeps): ProcessorSpec<AttemptStep> {
  const clock = deps.clock ?? Date.now;
  const log = deps.log.child({ processor: deps.lane });
  const bulk = deps.lane !== 'email-priority';

  const attempt = async (command: DeliveryCommand) => {
    if (command.email === null) return [skippedResult(command, 'no e-mail address', clock())];
    const outcome = await deps.sender.attempt(command, { waitMs: deps.rateWaitMs, priority: emailPriority(command.notification), reserved: bulk });
    if (outcome.kind !== 'answered' || outcome.status >= 300) {
      // The server's reply text may name the address: kind and status only.
      log.info({ deliveryId: command.delivery_id, attempt: command.attempt, outcome: outcome.kind, status: outcome.kind === 'answered' ? outcome.status : null }, 'e-mail attempt failed');
    }
    // An e-mail has no target to disable: settle gives `disable` for webhooks only.
    return settle(command, outcome, deps.policy, { now: clock() }, smtpVerdict).flatMap((o) => (o.kind === 'disable' ? [] : [o]));
  };

  return deliveryLane<never>({
    name: deps.lane, kafka: deps.kafka, codec: deps.codec, topics: deps.topics, tiers: deps.tiers, prefix: deps.prefix, clock,
    retryTopic: 'deliveryEmailRetry', dlqTopic: 'deliveryEmailDlq',
    room: (_topic, wanted) => deps.pool.room(bulk ? 'bulk' : 'high', wanted, deps.rateWaitMs),
    channel: {
      accept(command) {
        if (command.channel !== 'email') throw new ValidationError([`delivery ${command.delivery_id} is for ${command.channel}, not e-mail`]);
      },
      attempt,
      toRecords: (output) => output,
    },
  });
}
