/**
 * Wires e-mail delivery on the delivery lane of src/processors/delivery/adapter.ts
 * (the same retry tiers, results, DLQ and transaction as webhooks), in two lanes:
 * - `email` reads notification.delivery.email and makes each first attempt;
 * - `email-retry` reads the retry tiers (notification.delivery.email.retry.<delay>),
 *   each record attempted once it is due.
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
import type { DeliveryCommand } from '../../model/routing.ts';
import { ValidationError } from '../../errors.ts';
import { emailPriority, type EmailSender } from '../../channels/email/sender.ts';
import { smtpVerdict } from '../../channels/email/outcome.ts';
import { deliveryLane, skippedResult, type AttemptStep } from '../delivery/adapter.ts';
import { settle, type RetryPolicy } from '../webhook/decide.ts';

export type EmailLane = 'email' | 'email-retry';

export interface EmailDeps {
  lane: EmailLane;
  kafka: Kafka;
  codec: Codec;
  topics: TopicNames;
  tiers: Tiers;
  prefix: string;
  sender: EmailSender;
  policy: RetryPolicy;
  /** ms an attempt may wait for its transport's rate limit before it goes to the retry tiers instead */
  rateWaitMs: number;
  log: Logger;
  clock?: () => number;
}

export function emailProcessor(deps: EmailDeps): ProcessorSpec<AttemptStep> {
  const clock = deps.clock ?? Date.now;
  const log = deps.log.child({ processor: deps.lane });

  const attempt = async (command: DeliveryCommand) => {
    if (command.email === null) return [skippedResult(command, 'no e-mail address', clock())];
    const outcome = await deps.sender.attempt(command, { waitMs: deps.rateWaitMs, priority: emailPriority(command.notification) });
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
    channel: {
      accept(command) {
        if (command.channel !== 'email') throw new ValidationError([`delivery ${command.delivery_id} is for ${command.channel}, not e-mail`]);
      },
      attempt,
      toRecords: (output) => output,
    },
  });
}
