import { describe, expect, it } from 'vitest';
import { smtpVerdict, type EmailAttemptOutcome } from '../../src/channels/email/outcome.ts';
import { classifySmtpError } from '../../src/channels/email/smtp-errors.ts';
import { emailPriority } from '../../src/model/routing.ts';

const answered = (status: number, response?: string): EmailAttemptOutcome => ({ kind: 'answered', status, latencyMs: 3, response });
/** An error shaped as nodemailer's smtp-connection makes them. */
const smtpError = (fields: { code?: string; responseCode?: number; response?: string; command?: string; message?: string }) =>
  Object.assign(new Error(fields.message ?? 'failed'), fields);

describe('smtpVerdict', () => {
  it('250 is sent', () => {
    expect(smtpVerdict(answered(250, '250 2.0.0 OK'))).toEqual({ kind: 'sent' });
  });

  it.each([421, 450, 451, 452, 454, 471])('%i is retried, with the server\'s text', (status) => {
    expect(smtpVerdict(answered(status, `${status} try later`))).toEqual({ kind: 'retry', error: `the SMTP server answered ${status}: ${status} try later` });
  });

  it.each([550, 551, 552, 553, 554, 535])('%i ends the delivery as TIDINGS_EMAIL_REFUSED with the server\'s text', (status) => {
    expect(smtpVerdict(answered(status, `${status} 5.1.1 <a@b.test>: no such user`))).toEqual({
      kind: 'end', code: 'TIDINGS_EMAIL_REFUSED', reason: `the SMTP server refused the message (${status}): ${status} 5.1.1 <a@b.test>: no such user`,
    });
  });

  it('a 5xx without text still ends', () => {
    expect(smtpVerdict(answered(550))).toMatchObject({ kind: 'end', code: 'TIDINGS_EMAIL_REFUSED' });
  });

  it('timeouts and refused connections are retried; a final no-answer ends', () => {
    expect(smtpVerdict({ kind: 'no-answer', error: 'transport 0: Connection timeout', latencyMs: 5_000, final: false })).toEqual({ kind: 'retry', error: 'transport 0: Connection timeout' });
    expect(smtpVerdict({ kind: 'no-answer', error: 'the e-mail cannot be prepared', latencyMs: 0, final: true })).toEqual({
      kind: 'end', code: 'TIDINGS_EMAIL_UNSENDABLE', reason: 'the e-mail cannot be prepared',
    });
  });

  it('not attempted (rate limit, open circuits) is retried without counting an attempt', () => {
    expect(smtpVerdict({ kind: 'not-attempted', reason: 'circuit open' })).toEqual({ kind: 'retry', error: 'not attempted: circuit open', keepAttempt: true });
  });
});

describe('classifySmtpError', () => {
  it('a refused connection, a timeout and a missing greeting are the transport\'s, transient', () => {
    for (const err of [
      smtpError({ code: 'ESOCKET', command: 'CONN', message: 'connect ECONNREFUSED 127.0.0.1:1' }),
      smtpError({ code: 'ETIMEDOUT', command: 'CONN', message: 'Greeting never received' }),
      smtpError({ code: 'ECONNECTION', command: 'API', message: 'Connection closed' }),
      new Error('Connection pool was closed'),
    ]) expect(classifySmtpError(err, 1)).toMatchObject({ stage: 'transport', transient: true, code: null, transport: 1 });
  });

  it('any reply before MAIL FROM (greeting, EHLO, AUTH) is the transport\'s, 5xx too', () => {
    expect(classifySmtpError(smtpError({ code: 'EPROTOCOL', command: 'CONN', responseCode: 421, response: '421 busy' }), 0)).toMatchObject({ stage: 'transport', transient: true, code: 421, response: '421 busy' });
    expect(classifySmtpError(smtpError({ code: 'EAUTH', command: 'AUTH PLAIN', responseCode: 535, response: '535 bad login' }), 0)).toMatchObject({ stage: 'transport', transient: true, code: 535 });
    expect(classifySmtpError(smtpError({ code: 'EPROTOCOL', command: 'CONN', responseCode: 554, response: '554 no service' }), 0)).toMatchObject({ stage: 'transport', code: 554 });
  });

  it('a 421 to the message still means the service is closing: the transport\'s', () => {
    expect(classifySmtpError(smtpError({ code: 'EENVELOPE', command: 'RCPT TO', responseCode: 421, response: '421 closing' }), 0)).toMatchObject({ stage: 'transport', transient: true });
  });

  it('a refusal of MAIL FROM is the transport\'s (the sender is the same for every e-mail), but 552 (the message\'s size)', () => {
    expect(classifySmtpError(smtpError({ code: 'EENVELOPE', command: 'MAIL FROM', responseCode: 530, response: '530 5.7.0 Authentication required' }), 0)).toMatchObject({ stage: 'transport', transient: true, code: 530 });
    expect(classifySmtpError(smtpError({ code: 'EENVELOPE', command: 'MAIL FROM', responseCode: 550, response: '550 5.7.1 not allowed to send as this sender' }), 0)).toMatchObject({ stage: 'transport', code: 550 });
    expect(classifySmtpError(smtpError({ code: 'EENVELOPE', command: 'MAIL FROM', responseCode: 451, response: '451 local error' }), 0)).toMatchObject({ stage: 'transport', transient: true });
    expect(classifySmtpError(smtpError({ code: 'EENVELOPE', command: 'MAIL FROM', responseCode: 552, response: '552 5.3.4 message too big' }), 0)).toMatchObject({ stage: 'message', transient: false, code: 552 });
  });

  it('a 4xx to RCPT TO or DATA is the message\'s and transient; a 5xx permanent', () => {
    expect(classifySmtpError(smtpError({ code: 'EENVELOPE', command: 'RCPT TO', responseCode: 451, response: '451 greylisted' }), 0)).toMatchObject({ stage: 'message', transient: true, code: 451, response: '451 greylisted' });
    expect(classifySmtpError(smtpError({ code: 'EENVELOPE', command: 'RCPT TO', responseCode: 550, response: '550 no such user' }), 0)).toMatchObject({ stage: 'message', transient: false, code: 550 });
    expect(classifySmtpError(smtpError({ code: 'EMESSAGE', command: 'DATA', responseCode: 554, response: '554 spam' }), 0)).toMatchObject({ stage: 'message', transient: false, code: 554 });
  });

  it('nodemailer refusing an address or message before sending is permanent, the message\'s', () => {
    expect(classifySmtpError(smtpError({ code: 'EENVELOPE', command: 'API', message: 'No recipients defined' }), 0)).toMatchObject({ stage: 'message', transient: false, code: null });
  });

  it('a timeout during DATA is the transport\'s', () => {
    expect(classifySmtpError(smtpError({ code: 'ETIMEDOUT', command: 'CONN', message: 'Timeout' }), 0)).toMatchObject({ stage: 'transport', transient: true });
  });
});

describe('emailPriority', () => {
  it('mandatory and critical e-mails are high, the rest bulk', () => {
    expect(emailPriority({ type: 'security_password_changed', severity: 'info' })).toBe('high');
    expect(emailPriority({ type: 'job_failed', severity: 'critical' })).toBe('high');
    expect(emailPriority({ type: 'job_failed', severity: 'error' })).toBe('bulk');
  });
});
