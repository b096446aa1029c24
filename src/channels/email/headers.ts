/**
 * The headers every Tidings e-mail carries besides From, To and Subject.
 *
 * - Message-ID `<deliveryId@domain>`: the same on every attempt of a delivery
 *   and after a crash, so a receiver can drop the duplicate that an
 *   at-least-once send may make.
 * - List-Unsubscribe `<url>` and List-Unsubscribe-Post
 *   `List-Unsubscribe=One-Click` (RFC 8058) on every non-mandatory e-mail;
 *   never on a mandatory one, which cannot be turned off.
 * - X-Priority and Importance from the severity: critical, error and high
 *   are `1 (Highest)` / `high`; warning, medium, info and success
 *   `3 (Normal)` / `normal`. Only Nexora's explicit `low` is marked
 *   `5 (Lowest)` / `low` (its e-mail service's low priority): some clients
 *   hide low-priority mail, so no other severity is.
 * - Auto-Submitted `auto-generated` (RFC 3834), so that vacation responders
 *   do not answer.
 */
import type { Severity } from '../../model/notification.ts';

export interface HeaderInput {
  deliveryId: string;
  /** the right-hand side of the Message-ID, e.g. the sending domain */
  domain: string;
  severity: Severity;
  unsubscribeUrl?: string;
  /** a mandatory type gets no unsubscribe headers */
  mandatory: boolean;
}

// RFC 5322 dot-atom-text, for both sides of a msg-id
const DOT_ATOM = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;

const PRIORITY: Record<Severity, { xPriority: string; importance: string }> = {
  critical: { xPriority: '1 (Highest)', importance: 'high' },
  error: { xPriority: '1 (Highest)', importance: 'high' },
  warning: { xPriority: '3 (Normal)', importance: 'normal' },
  info: { xPriority: '3 (Normal)', importance: 'normal' },
  success: { xPriority: '3 (Normal)', importance: 'normal' },
  high: { xPriority: '1 (Highest)', importance: 'high' },
  medium: { xPriority: '3 (Normal)', importance: 'normal' },
  low: { xPriority: '5 (Lowest)', importance: 'low' },
};

/** The stable Message-ID of a delivery: `<deliveryId@domain>`. */
export function messageIdOf(deliveryId: string, domain: string): string {
  if (!DOT_ATOM.test(deliveryId)) throw new RangeError(`delivery id ${JSON.stringify(deliveryId)} cannot be the left side of a Message-ID`);
  if (!DOT_ATOM.test(domain)) throw new RangeError(`${JSON.stringify(domain)} cannot be the right side of a Message-ID`);
  return `<${deliveryId}@${domain}>`;
}

/** Header name → value; throws a RangeError for an id, domain or URL that would break a header (a bug upstream). */
export function emailHeaders(input: HeaderInput): Record<string, string> {
  const priority = PRIORITY[input.severity] ?? PRIORITY.info;
  const headers: Record<string, string> = {
    'Message-ID': messageIdOf(input.deliveryId, input.domain),
    'X-Priority': priority.xPriority,
    Importance: priority.importance,
    'Auto-Submitted': 'auto-generated',
  };
  if (!input.mandatory && input.unsubscribeUrl !== undefined) {
    const url = input.unsubscribeUrl;
    if (!/^https?:\/\/[^\s<>"]+$/i.test(url)) throw new RangeError('the unsubscribe URL must be http(s) without spaces, quotes or angle brackets');
    headers['List-Unsubscribe'] = `<${url}>`;
    headers['List-Unsubscribe-Post'] = 'List-Unsubscribe=One-Click';
  }
  return headers;
}
