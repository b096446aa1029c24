import { afterAll, describe, expect, it } from 'vitest';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createEmailTemplates, normaliseLocale, type RenderInput } from '../../src/channels/email/templates.ts';
import type { Notification } from '../../src/model/notification.ts';
import { ConfigError } from '../../src/errors.ts';

const notification = (overrides: Partial<Notification> = {}): Notification => ({
  id: 'n1', user_id: 'u1', type: 'job_failed', category: 'job', severity: 'error', title: 'Job 42 failed', message: 'Out of memory', data: '{}',
  action_url: 'https://tidings.example.test/jobs/42', source_type: 'job', source_id: '42', source_key: 'job:42:job_failed:u1', event_id: null,
  occurred_at: Date.UTC(2025, 11, 23, 10, 30), created_at: Date.UTC(2025, 11, 23, 10, 31), ...overrides,
});
const input = (overrides: Partial<Notification> = {}, locale = 'en', unsubscribeUrl: string | null = 'https://tidings.example.test/u?token=t'): RenderInput => ({
  notification: notification(overrides), recipient: { address: 'alice@example.test', display_name: 'Alice', locale }, unsubscribeUrl: unsubscribeUrl ?? undefined, deliveryId: 'd1',
});

const dirs: string[] = [];
afterAll(() => { for (const d of dirs) rmSync(d, { recursive: true, force: true }); });
/** A folder holding `files` (relative path → source). */
const folder = (files: Record<string, string>): string => {
  const dir = mkdtempSync(join(tmpdir(), 'tidings-templates-'));
  dirs.push(dir);
  for (const [path, source] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), source);
  }
  return dir;
};

const shipped = createEmailTemplates();

describe('e-mail templates', () => {
  it('ships English sets for the seeds\' security and approval types and a generic one', () => {
    expect(shipped.names()).toEqual([
      'en/approval_requested', 'en/generic', 'en/security_account_locked', 'en/security_alert', 'en/security_api_key_rotated',
      'en/security_mfa_disabled', 'en/security_password_changed', 'en/security_password_reset', 'en/security_suspicious_login',
    ]);
  });

  it('renders subject, HTML in the shared layout and plain text', () => {
    const mail = shipped.renderEmail(input());
    expect(mail.subject).toBe('[Tidings] Job 42 failed');
    expect(mail.html).toMatch(/^<!DOCTYPE html>/);
    expect(mail.html).toContain('<h1 style="margin:0 0 12px;font-size:20px;">Job 42 failed</h1>');
    expect(mail.html).toContain('Hello Alice,');
    expect(mail.html).toContain('href="https://tidings.example.test/u?token&#x3D;t"');
    expect(mail.text).toContain('Job 42 failed\n\nOut of memory');
    expect(mail.text).toContain('View details: https://tidings.example.test/jobs/42');
    expect(mail.text).toContain('Stop these e-mails: https://tidings.example.test/u?token=t');
    expect(mail.text).toContain('2025-12-23 10:30 UTC');
  });

  it('escapes <script> in title, message and data in HTML; leaves plain text and subject unescaped', () => {
    const mail = shipped.renderEmail(input({
      type: 'security_suspicious_login', title: '<script>alert(1)</script>', message: 'a & b <img src=x onerror=alert(2)>',
      data: JSON.stringify({ ip_address: '"><script>alert(3)</script>' }),
    }));
    expect(mail.html).not.toMatch(/<script|<img/);
    expect(mail.html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(mail.html).toContain('a &amp; b &lt;img src&#x3D;x onerror&#x3D;alert(2)&gt;');
    expect(mail.html).toContain('&quot;&gt;&lt;script&gt;alert(3)&lt;/script&gt;');
    expect(mail.text).toContain('a & b <img src=x onerror=alert(2)>');
    expect(shipped.renderEmail(input({ title: '<b>Hi</b>\r\nBcc: x@example.test' })).subject).toBe('[Tidings] <b>Hi</b> Bcc: x@example.test');
  });

  it('links only http(s) URLs: a javascript: URL in data or action_url is dropped', () => {
    const mail = shipped.renderEmail(input({
      type: 'approval_requested', action_url: 'javascript:alert(1)',
      data: JSON.stringify({ approve_url: 'javascript:alert(2)', reject_url: 'https://tidings.example.test/reject?id=1', workflow_name: 'Deploy' }),
    }));
    expect(mail.html).not.toContain('javascript:');
    expect(mail.html).toContain('href="https://tidings.example.test/reject?id&#x3D;1"');
    expect(mail.html).not.toContain('>Approve</a>');
    expect(mail.subject).toBe('[Tidings] Approval needed: Deploy');
  });

  it('picks the type\'s own set, security_alert for other security_* types, generic for the rest', () => {
    expect(shipped.renderEmail(input({ type: 'security_password_reset' })).subject).toBe('[Tidings] Reset your password');
    expect(shipped.renderEmail(input({ type: 'security_new_device' })).subject).toBe('[Tidings] Security alert: Job 42 failed');
    expect(shipped.renderEmail(input({ type: 'maintenance_announcement' })).subject).toBe('[Tidings] Job 42 failed');
  });

  it('gives Nexora\'s types the shipped set of the same meaning, and the approval request its deadline', () => {
    expect(shipped.renderEmail(input({ type: 'account_lockout' })).subject).toBe(shipped.renderEmail(input({ type: 'security_account_locked' })).subject);
    expect(shipped.renderEmail(input({ type: 'password_change' })).subject).toBe(shipped.renderEmail(input({ type: 'security_password_changed' })).subject);
    expect(shipped.renderEmail(input({ type: 'api_key_rotation' })).subject).toBe(shipped.renderEmail(input({ type: 'security_api_key_rotated' })).subject);
    const approval = shipped.renderEmail(input({ type: 'workflow_approval', data: JSON.stringify({ approval_id: 'a', step: 'Rotate Credentials', respond_by: '2026-12-02T10:30:00Z' }) }));
    expect(approval.subject).toContain('Approval needed');
    expect(approval.text).toContain('Step:         Rotate Credentials');
    expect(approval.text).toContain('Decide before');
    expect(shipped.renderEmail(input({ type: 'security_alert' })).subject).toContain('Security alert');
  });

  it('states that a mandatory type cannot be turned off, and shows no unsubscribe link without a URL', () => {
    const mail = shipped.renderEmail(input({ type: 'security_password_changed' }, 'en', null));
    expect(mail.html).toContain('cannot be turned off');
    expect(mail.text).not.toContain('Stop these e-mails');
    expect(shipped.renderEmail(input({ type: 'job_failed' }, 'en', null)).html).not.toContain('Stop these e-mails');
  });

  it('falls back from a locale without templates to English (pt_BR → pt-br → pt → en)', () => {
    const mail = shipped.renderEmail(input({}, 'pt_BR'));
    expect(mail.subject).toBe('[Tidings] Job 42 failed');
    expect(mail.html).toContain('<html lang="en">');
    expect(normaliseLocale('pt_BR')).toBe('pt-br');
    expect(normaliseLocale('../../etc')).toBe('en');
  });

  it('takes an override folder\'s file over the shipped one with the same path, and its new locales', () => {
    const templates = createEmailTemplates({ overridesDir: folder({
      'en/generic.subject.hbs': 'Custom: {{title}}',
      'de/generic.subject.hbs': 'Neu: {{title}}',
      'de/generic.html.hbs': '{{#> layout}}<p>{{message}}</p>{{/layout}}',
      'de/generic.text.hbs': '{{message}}',
      'de/layout.html.hbs': '<html lang="{{lang}}">{{> @partial-block}}</html>',
    }) });
    const en = templates.renderEmail(input());
    expect(en.subject).toBe('Custom: Job 42 failed');
    expect(en.html).toContain('Hello Alice,'); // the shipped English body and layout stay
    const de = templates.renderEmail(input({ message: '<b>' }, 'de-AT'));
    expect(de).toEqual({ subject: 'Neu: Job 42 failed', html: '<html lang="de"><p>&lt;b&gt;</p></html>', text: '<b>\n' });
    // German has no set for the type: its own English set wins over the German generic one.
    expect(templates.renderEmail(input({ type: 'security_password_reset' }, 'de')).subject).toBe('[Tidings] Reset your password');
  });

  it('refuses at start, listing every problem: a triple-stash in HTML, an incomplete set, bad syntax, a stray file', () => {
    const make = () => createEmailTemplates({ overridesDir: folder({
      'en/generic.html.hbs': '{{#> layout}}{{{message}}}{{/layout}}',
      'fr/generic.subject.hbs': 'Nouveau',
      'en/security_alert.text.hbs': '{{#if title}}unclosed',
      'en/notes.txt.hbs': 'hello',
    }) });
    expect(make).toThrow(ConfigError);
    try {
      make();
    } catch (err) {
      const problems = (err as ConfigError).problems.join('\n');
      expect(problems).toContain('en/generic.html.hbs: {{{ }}} and {{& }} are refused');
      expect(problems).toContain('fr/generic: missing html.hbs, text.hbs');
      expect(problems).toContain('en/security_alert.text.hbs:');
      expect(problems).toContain('en/notes.txt.hbs: not <locale>/<name>');
    }
    expect(() => createEmailTemplates({ overridesDir: join(tmpdir(), 'tidings-no-such-folder') })).toThrow(/folder/);
  });

  it('colours Nexora\'s severities: high as error, medium as warning, low grey', () => {
    const colour = (severity: Notification['severity']) => /border-top:4px solid (#[0-9a-f]{6})/.exec(shipped.renderEmail(input({ severity })).html)?.[1];
    expect([colour('high'), colour('medium'), colour('low')]).toEqual([colour('error'), colour('warning'), '#6b7280']);
  });
});
