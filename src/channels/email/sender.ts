/**
 * Makes one e-mail attempt for a delivery command: renders the type's
 * template in the recipient's locale, adds the headers (a Message-ID that is
 * the same on every attempt, one-click unsubscribe unless the type is
 * mandatory, priority from severity), waits for the rate limit at most
 * `waitMs`, sends through the transport pool, and says what came of it as an
 * AttemptOutcome (smtpVerdict reads it). Never throws for what a server does.
 */
import type { DeliveryCommand } from '../../model/routing.ts';
import { typeInfo } from '../../model/catalogue.ts';
import { ValidationError } from '../../errors.ts';
import type { EmailTemplates } from './templates.ts';
import type { TransportPool } from './transport-pool.ts';
import type { SendPriority } from './rate-limit.ts';
import type { EmailAttemptOutcome } from './outcome.ts';
import { emailHeaders } from './headers.ts';
import { signUnsubscribe } from './unsubscribe.ts';
import { SmtpFailure, SmtpNotAttempted } from './smtp-errors.ts';

export interface EmailSenderOptions {
  pool: Pick<TransportPool, 'send'>;
  templates: EmailTemplates;
  /** the From header: `noreply@example.com` or `"Example" <noreply@example.com>` */
  fromAddress: string;
  /** the right-hand side of every Message-ID */
  domain: string;
  /** the one-click unsubscribe endpoint; the signed token is added as `?token=` (a function: read at each attempt, for a server whose port is known only once it listens) */
  unsubscribeBase: string | (() => string);
  unsubscribeSecret: string | Buffer;
}

export interface EmailAttemptOptions {
  /** ms the attempt may wait for the transport's rate limit; then it is not attempted */
  waitMs: number;
  priority: SendPriority;
  /** the lane reserved room for it in the rate limits (TransportPool.room) */
  reserved?: boolean;
}

export interface EmailSender {
  attempt(command: DeliveryCommand, options: EmailAttemptOptions): Promise<EmailAttemptOutcome>;
}

/** The one-click link for `token` under `base`. */
export function unsubscribeUrl(base: string, token: string): string {
  const url = new URL(base);
  url.searchParams.set('token', token);
  return url.href;
}

export function createEmailSender(options: EmailSenderOptions): EmailSender {
  return {
    async attempt(command, { waitMs, priority, reserved }) {
      const target = command.email;
      if (command.channel !== 'email' || target === null) {
        throw new ValidationError([`delivery ${command.delivery_id} is for ${command.channel}, without an e-mail address`]);
      }
      const n = command.notification;
      let message;
      try {
        const mandatory = typeInfo(n.type).mandatory;
        // Issued at the notification's time, so every attempt of a delivery renders the same e-mail.
        const link = mandatory ? undefined : unsubscribeUrl(typeof options.unsubscribeBase === 'string' ? options.unsubscribeBase : options.unsubscribeBase(), signUnsubscribe({ userId: command.user_id, type: n.type, issuedAt: n.created_at }, options.unsubscribeSecret));
        const { subject, html, text } = options.templates.renderEmail({ notification: n, recipient: target, unsubscribeUrl: link, deliveryId: command.delivery_id });
        const { 'Message-ID': messageId, ...headers } = emailHeaders({ deliveryId: command.delivery_id, domain: options.domain, severity: n.severity, unsubscribeUrl: link, mandatory });
        message = {
          from: options.fromAddress,
          to: target.display_name ? { name: target.display_name, address: target.address } : target.address,
          subject, html, text, messageId, headers,
        };
      } catch (err) {
        return { kind: 'no-answer', error: `the e-mail cannot be prepared: ${(err as Error).message}`, latencyMs: 0, final: true };
      }
      const started = performance.now();
      try {
        const sent = await options.pool.send(message, { priority, waitMs, reserved });
        return { kind: 'answered', status: replyCode(sent.info.response) ?? 250, response: sent.info.response, latencyMs: sent.latencyMs };
      } catch (err) {
        const latencyMs = performance.now() - started;
        if (err instanceof SmtpNotAttempted) return { kind: 'not-attempted', reason: err.reason };
        if (!(err instanceof SmtpFailure)) throw err; // a bug, not the server
        if (err.stage === 'message' && err.code !== null) return { kind: 'answered', status: err.code, response: err.response, latencyMs };
        return { kind: 'no-answer', error: err.message, latencyMs, final: !err.transient };
      }
    },
  };
}

function replyCode(response: string | undefined): number | undefined {
  const match = /^(\d{3})/.exec(response ?? '');
  return match ? Number(match[1]) : undefined;
}
