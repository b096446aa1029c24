/**
 * What went wrong with an SMTP send, from nodemailer's error: whose fault it
 * is (the transport's or the message's) and whether trying again can help.
 *
 * - The transport's (`stage: 'transport'`): no connection, a timeout, a
 *   reset, a failure before MAIL FROM (greeting, EHLO, STARTTLS, AUTH, in any
 *   reply class: a bad password is the transport's problem, not the
 *   message's), a refusal of MAIL FROM (its sender is TIDINGS_EMAIL_FROM, the
 *   same for every e-mail: 530 authentication required, 550 5.7.1 not allowed
 *   to send as this sender …; but 552, the message's declared size), or a 421
 *   at any point (RFC 5321: the service is closing). Its circuit opens and the
 *   next transport takes over; transient.
 * - The message's (`stage: 'message'`): the server answered RCPT TO or DATA
 *   (or MAIL FROM with 552). A 4xx is transient (greylisting, a full mailbox) and a 5xx
 *   permanent (550 no such user, 554 refused); neither is worth another
 *   transport, which would hear the same. Without a reply code (nodemailer
 *   refusing an address or message before sending it) it is permanent.
 */
export type SmtpStage = 'transport' | 'message';

export class SmtpFailure extends Error {
  /** the SMTP reply code, or null when there was none (no connection, a timeout …) */
  readonly code: number | null;
  readonly transient: boolean;
  /** the server's reply, or what failed */
  readonly response: string;
  /** index of the transport that failed (in SMTP_URL order) */
  readonly transport: number;
  readonly stage: SmtpStage;
  /** nodemailer's error code (ECONNECTION, ETIMEDOUT, EAUTH, EENVELOPE …), when it gave one */
  readonly errorCode: string | null;

  constructor(fields: { code: number | null; transient: boolean; response: string; transport: number; stage: SmtpStage; errorCode: string | null }, options?: ErrorOptions) {
    super(`transport ${fields.transport}: ${fields.response}`, options);
    this.name = 'SmtpFailure';
    this.code = fields.code;
    this.transient = fields.transient;
    this.response = fields.response;
    this.transport = fields.transport;
    this.stage = fields.stage;
    this.errorCode = fields.errorCode;
  }

  get retriable(): boolean {
    return this.transient;
  }
}

/** No transport was tried: every circuit is open, or the rate limit left no room before the deadline. */
export class SmtpNotAttempted extends Error {
  readonly reason: string;

  constructor(reason: string) {
    super(reason);
    this.name = 'SmtpNotAttempted';
    this.reason = reason;
  }
}

/** What nodemailer's errors carry (smtp-connection's _formatError). */
interface NodemailerError {
  message?: string;
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
}

/** Replies to these commands are about the message; to any other (CONN, EHLO, STARTTLS, AUTH, MAIL FROM, RSET …) about the transport. */
const MESSAGE_COMMANDS = new Set(['RCPT TO', 'DATA']);
/** MAIL FROM's reply about the message itself: its declared SIZE is too large */
const MESSAGE_SIZE_REFUSED = 552;
/** nodemailer's codes for a failing connection or session */
const CONNECTION_CODES = new Set(['ECONNECTION', 'ETIMEDOUT', 'ESOCKET', 'EDNS', 'ETLS', 'EAUTH', 'ENOAUTH', 'EPROTOCOL']);

export function classifySmtpError(err: unknown, transport: number): SmtpFailure {
  const e = (err ?? {}) as NodemailerError;
  const code = typeof e.responseCode === 'number' ? e.responseCode : null;
  const response = (e.response ?? e.message ?? String(err)).trim();
  const errorCode = e.code ?? null;
  const connectionFault = errorCode === null || CONNECTION_CODES.has(errorCode);
  const answeredForMessage = code !== null && e.command !== undefined && (MESSAGE_COMMANDS.has(e.command) || (e.command === 'MAIL FROM' && code === MESSAGE_SIZE_REFUSED));
  // nodemailer refusing an address or the message before sending it (EENVELOPE, EMESSAGE, ESTREAM without a reply)
  const refusedBeforeSending = code === null && !connectionFault;
  if (code !== 421 && (answeredForMessage || refusedBeforeSending)) {
    const transient = code !== null && code >= 400 && code < 500;
    return new SmtpFailure({ code, transient, response, transport, stage: 'message', errorCode }, { cause: err });
  }
  return new SmtpFailure({ code, transient: true, response, transport, stage: 'transport', errorCode }, { cause: err });
}
