/**
 * What an e-mail attempt's outcome means for the retry machinery (the same
 * retry tiers, delivery results and DLQ as webhooks):
 * - 2xx (250): sent;
 * - any 4xx (421, 450, 451, 452 …), no answer that may pass (a timeout, a
 *   refused connection, every transport down): retry; not attempted (rate
 *   limit, open circuits): retry without counting an attempt;
 * - 5xx (550, 553, 554 …): end, TIDINGS_EMAIL_REFUSED with the server's text;
 * - no answer that no retry can help (the message cannot be built, or
 *   nodemailer refuses the address): end, TIDINGS_EMAIL_UNSENDABLE.
 * A recipient without an address is the processor's (skipped, never attempted).
 */
import type { AttemptOutcome } from '../../processors/webhook/decide.ts';

/** AttemptOutcome, an answer carrying the server's reply text too. */
export type EmailAttemptOutcome =
  | Exclude<AttemptOutcome, { kind: 'answered' }>
  | (Extract<AttemptOutcome, { kind: 'answered' }> & { /** the SMTP reply, e.g. "550 5.1.1 no such user" */ response?: string });

export type SmtpVerdict =
  | { kind: 'sent' }
  | { kind: 'retry'; error: string; keepAttempt?: boolean }
  | { kind: 'end'; code: string; reason: string };

export function smtpVerdict(outcome: EmailAttemptOutcome): SmtpVerdict {
  switch (outcome.kind) {
    case 'answered': {
      const said = outcome.response ? `: ${outcome.response}` : '';
      if (outcome.status >= 200 && outcome.status < 300) return { kind: 'sent' };
      if (outcome.status >= 500 && outcome.status < 600) return { kind: 'end', code: 'TIDINGS_EMAIL_REFUSED', reason: `the SMTP server refused the message (${outcome.status})${said}` };
      return { kind: 'retry', error: `the SMTP server answered ${outcome.status}${said}` };
    }
    case 'no-answer':
      return outcome.final ? { kind: 'end', code: 'TIDINGS_EMAIL_UNSENDABLE', reason: outcome.error } : { kind: 'retry', error: outcome.error };
    case 'not-attempted':
      // Nothing was sent (rate limit, every circuit open): it costs no attempt, so a limit never dead-letters an e-mail.
      return { kind: 'retry', error: `not attempted: ${outcome.reason}`, keepAttempt: true };
  }
}
