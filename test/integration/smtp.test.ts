/** The stack's SMTP server takes real SMTP from nodemailer and gives the mail back. */
import { describe, expect, it, inject } from 'vitest';
import { randomUUID } from 'node:crypto';
import nodemailer from 'nodemailer';
import type { CapturedMail } from '../../src/stack/mail-catcher.ts';
import { waitFor } from './harness.ts';

describe('SMTP server', () => {
  it('captures a message sent over SMTP, headers and Message-ID included', async () => {
    const to = `${randomUUID()}@example.test`;
    const transport = nodemailer.createTransport(inject('endpoints').smtpUrl);
    const info = await transport.sendMail({ from: 'tidings@example.test', to, subject: 'Job finished', text: 'All 3 tasks finished', html: '<p>All 3 tasks finished</p>', messageId: `<${randomUUID()}@tidings>` });
    transport.close();
    const mails = await waitFor(async () => {
      const list = (await (await fetch(`${inject('mailApiUrl')}/messages?to=${encodeURIComponent(to)}`)).json()) as CapturedMail[];
      return list.length > 0 ? list : undefined;
    }, 'the captured mail');
    expect(mails).toHaveLength(1);
    expect(mails[0]).toMatchObject({ envelopeTo: [to], subject: 'Job finished', text: 'All 3 tasks finished', messageId: info.messageId });
    expect(mails[0]?.html).toContain('<p>All 3 tasks finished</p>');
  });
});
