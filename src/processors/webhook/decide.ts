/**
 * Delivery, the pure part: what one attempt's outcome leads to. The retry
 * schedule, tiers, dead letters and results are the same for every channel;
 * what an outcome means is the channel's (webhookVerdict here). A
 * delivery command is attempted (by the sender, outside this module); its
 * outcome becomes a delivery result and, unless it succeeded, either the
 * command again on the retry topic of its next delay, or a dead letter, and
 * for an endpoint that is gone, its disabling.
 *
 * Retry rules (Svix, and the KrakenHashes seed's schedule): a 2xx is sent; 410
 * Gone ends the delivery and disables the endpoint; any other 4xx but 408, 409,
 * 425 and 429 ends it (the request will not get better); everything else
 * (3xx, which is never followed, 408/409/425/429, 5xx, no answer) is retried
 * after the schedule's next delay with ±20 % jitter, or after a 429/503's
 * Retry-After when that is longer (cut to a maximum). After the last attempt
 * the command is dead-lettered.
 */
import type { DecideContext } from '../../processor.ts';
import type { DeliveryCommand, DeliveryOutcome, DeliveryResult } from '../../model/routing.ts';
import { ValidationError } from '../../errors.ts';

/** What came of one attempt, as the sender saw it. */
export type AttemptOutcome =
  | { kind: 'answered'; status: number; latencyMs: number; /** ms asked for by Retry-After */ retryAfterMs?: number }
  /** no answer: timeout, refused or reset connection; `final` when trying again cannot help (a refused address, a bad secret) */
  | { kind: 'no-answer'; error: string; latencyMs: number; final: boolean }
  /** not attempted: the endpoint's circuit is open, or no slot was free in time */
  | { kind: 'not-attempted'; reason: string };

export interface RetryPolicy {
  /** ms before the 2nd, 3rd … attempt; attempts = delays + 1 */
  delays: readonly number[];
  /** ms; the longest Retry-After honoured */
  retryAfterMaxMs: number;
}

export type WebhookOutput =
  | { kind: 'result'; result: DeliveryResult }
  /** the command again, for its next attempt, on the tier topic of `tierMs` */
  | { kind: 'retry'; command: DeliveryCommand; tierMs: number; dueAt: number; lastError: string }
  /** ms `at`: when it was dead-lettered */
  | { kind: 'dead'; command: DeliveryCommand; code: string; reason: string; status: number | null; at: number }
  | { kind: 'disable'; userId: string; endpointId: string; reason: string };

/** What to do with one consumed command: attempt it (the sender does), or refuse it. */
export function commandToAttempt(command: DeliveryCommand): { command: DeliveryCommand; target: NonNullable<DeliveryCommand['webhook']> } {
  if (command.channel !== 'webhook' || command.webhook === null) {
    throw new ValidationError([`delivery ${command.delivery_id} is for ${command.channel}, without a webhook target`]);
  }
  return { command, target: command.webhook };
}

/** Status codes of a 4xx that is worth trying again. */
const RETRIED_4XX = new Set([408, 409, 425, 429]);
const JITTER = 0.2;

/**
 * What an attempt's outcome means for its delivery, by channel: sent; retried
 * (after `retryAfterMs` at least, when the receiver asked); or ended with a
 * code and reason (dead-lettered), `disable` when the target is gone for good.
 */
export type Verdict =
  | { kind: 'sent' }
  /** `keepAttempt`: nothing was sent, the next try has the same attempt number and delay */
  | { kind: 'retry'; error: string; retryAfterMs?: number; keepAttempt?: boolean }
  | { kind: 'end'; code: string; reason: string; disable?: boolean };

/** HTTP's reading of an outcome, for webhooks (the rules above). */
export function webhookVerdict(outcome: AttemptOutcome, command: DeliveryCommand): Verdict {
  const target = commandToAttempt(command).target;
  if (outcome.kind === 'answered' && outcome.status >= 200 && outcome.status < 300) return { kind: 'sent' };
  if (outcome.kind === 'answered' && outcome.status === 410) {
    return target.global
      ? { kind: 'end', code: 'TIDINGS_WEBHOOK_GONE', reason: 'the endpoint answered 410 Gone; the global webhook is configured, not disabled: fix TIDINGS_GLOBAL_WEBHOOK_URL' }
      : { kind: 'end', code: 'TIDINGS_WEBHOOK_GONE', reason: 'the endpoint answered 410 Gone; it is disabled', disable: true };
  }
  if (outcome.kind === 'answered' && outcome.status >= 400 && outcome.status < 500 && !RETRIED_4XX.has(outcome.status)) {
    return { kind: 'end', code: 'TIDINGS_WEBHOOK_REFUSED', reason: `the endpoint answered ${outcome.status}; a 4xx other than 408, 409, 425 and 429 is not retried` };
  }
  if (outcome.kind === 'no-answer' && outcome.final) return { kind: 'end', code: 'TIDINGS_WEBHOOK_UNREACHABLE', reason: outcome.error };
  return { kind: 'retry', error: failureText(outcome), retryAfterMs: outcome.kind === 'answered' ? outcome.retryAfterMs : undefined };
}

/**
 * An attempt's outputs: its result, and unless it was sent, the command on its
 * next tier or dead-lettered (plus the target's disabling when it is gone).
 * `judge` reads the outcome for the command's channel.
 */
export function settle(
  command: DeliveryCommand, outcome: AttemptOutcome, policy: RetryPolicy, ctx: Pick<DecideContext, 'now'>,
  judge: (outcome: AttemptOutcome, command: DeliveryCommand) => Verdict = webhookVerdict,
): WebhookOutput[] {
  const result = (o: DeliveryOutcome, error: string | null, next: number | null = null): WebhookOutput => ({ kind: 'result', result: {
    delivery_id: command.delivery_id, notification_id: command.notification.id, user_id: command.user_id, channel: command.channel,
    endpoint_id: command.webhook?.endpoint_id ?? null, attempt: command.attempt, outcome: o,
    status: outcome.kind === 'answered' ? outcome.status : null, error,
    latency_ms: outcome.kind === 'not-attempted' ? null : Math.round(outcome.latencyMs), next_attempt_at: next, at: ctx.now,
  } });
  const status = outcome.kind === 'answered' ? outcome.status : null;
  const verdict = judge(outcome, command);
  switch (verdict.kind) {
    case 'sent':
      return [result('sent', null)];
    case 'end': {
      const ended: WebhookOutput[] = [result('failed', verdict.reason), { kind: 'dead', command, code: verdict.code, reason: verdict.reason, status, at: ctx.now }];
      if (verdict.disable && command.webhook && !command.webhook.global) {
        ended.push({ kind: 'disable', userId: command.user_id, endpointId: command.webhook.endpoint_id, reason: verdict.reason.split(';')[0]! });
      }
      return ended;
    }
    case 'retry': {
      const counted = verdict.keepAttempt ? { ...command, attempt: Math.min(command.attempt, Math.max(1, policy.delays.length)) } : command;
      const next = nextAttempt(counted, verdict.retryAfterMs, policy, ctx.now);
      if (next === undefined) {
        const reason = `${verdict.error}, after ${command.attempt} attempt${command.attempt === 1 ? '' : 's'}`;
        const code = `TIDINGS_${command.channel.toUpperCase()}_ATTEMPTS_EXHAUSTED`;
        return [result('dead', reason), { kind: 'dead', command, code, reason, status, at: ctx.now }];
      }
      return [
        result('retrying', verdict.error, next.dueAt),
        { kind: 'retry', command: { ...command, attempt: verdict.keepAttempt ? command.attempt : command.attempt + 1 }, tierMs: next.tierMs, dueAt: next.dueAt, lastError: verdict.error },
      ];
    }
  }
}

function failureText(outcome: AttemptOutcome): string {
  switch (outcome.kind) {
    case 'answered': return outcome.status >= 300 && outcome.status < 400
      ? `the endpoint answered ${outcome.status}; redirects are not followed`
      : `the endpoint answered ${outcome.status}`;
    case 'no-answer': return outcome.error;
    case 'not-attempted': return `not attempted: ${outcome.reason}`;
  }
}

/**
 * When the attempt after `command.attempt` is due and on which tier it waits,
 * or undefined when that was the last. The tier is the schedule's delay for
 * that attempt, or the longest delay not longer than a longer Retry-After, so
 * that a record waits behind others due at most its jitter later.
 */
export function nextAttempt(command: DeliveryCommand, retryAfterMs: number | undefined, policy: RetryPolicy, now: number): { tierMs: number; dueAt: number } | undefined {
  const delay = policy.delays[command.attempt - 1];
  if (delay === undefined) return undefined;
  const jittered = Math.round(delay * (1 - JITTER + 2 * JITTER * unitHash(`${command.delivery_id}:${command.attempt}`)));
  const asked = Math.min(retryAfterMs ?? 0, policy.retryAfterMaxMs);
  const wait = Math.max(jittered, asked);
  // The tier of the delay before jitter (a shorter one would hold its records
  // behind this one), or of a longer Retry-After.
  const tiers = [...new Set(policy.delays)].sort((a, b) => a - b);
  const tierMs = tiers.filter((t) => t <= Math.max(delay, asked)).pop() ?? tiers[0]!;
  return { tierMs, dueAt: now + wait };
}

/** A number in [0, 1) from `text`: jitter that replays the same for the same delivery and attempt. */
function unitHash(text: string): number {
  let h = 0x811c9dc5; // FNV-1a, 32 bit
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h / 2 ** 32;
}

/**
 * Retry-After as ms from `now`: delta-seconds or an HTTP date (RFC 9110
 * 10.2.3); undefined when absent or unreadable.
 */
export function retryAfterMs(header: string | undefined, now: number): number | undefined {
  if (header === undefined) return undefined;
  const value = header.trim();
  if (/^\d+$/.test(value)) return Number(value) * 1_000;
  // Only an IMF-fixdate or its obsolete forms: a day name first ("Sun, 06 Nov 1994 08:49:37 GMT"). Date.parse would read "1.5" or "-1" as years.
  if (!/^[A-Za-z]{3}/.test(value)) return undefined;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
