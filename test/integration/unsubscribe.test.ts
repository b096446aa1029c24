/**
 * RFC 8058 one-click unsubscribe on the real stack: the List-Unsubscribe link
 * of an e-mail read back from the stack's catcher, POSTed as a mail client
 * does, turns that type's e-mail off (the next one is not sent, another type's
 * still is); GET changes nothing; a tampered token is refused.
 */
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import type { CapturedMail } from '../../src/stack/mail-catcher.ts';
import { signUnsubscribe } from '../../src/channels/email/unsubscribe.ts';
import { callApi, isolatedSettings, startWith, waitFor, waitForConsumed, waitUntilProcessed, type Harness } from './harness.ts';

const ROLES = 'ingest,api,dedupe,router,projector,email';

describe('one-click unsubscribe', () => {
  let h: Harness;
  let producer: string;
  let admin: string;
  beforeAll(async () => {
    const settings = await isolatedSettings({ TIDINGS_ROLES: ROLES, TIDINGS_EMAIL_RATE_PER_SECOND: '0', LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'error' });
    h = await startWith({ ...settings, endpoints: { ...settings.endpoints, smtpUrl: inject('endpoints').smtpUrl } });
    producer = await h.auth.sign({ userId: 'producer', roles: ['producer'] });
    admin = await h.auth.sign({ userId: 'root', roles: ['admin'] });
  });
  afterAll(async () => {
    await h?.stop();
  });

  const mails = async (to: string) => (await (await fetch(`${inject('mailApiUrl')}/messages?to=${encodeURIComponent(to)}`)).json()) as CapturedMail[];
  const mailAbout = (to: string, title: string) => waitFor(async () => (await mails(to)).find((m) => m.subject?.includes(title)), `the mail "${title}" to ${to}`);
  const post = async (user: string, type: string, title: string) => {
    expect((await callApi(h, 'POST', '/v1/events', producer, { user_id: user, type, title, message: 'details', source_type: 'job', source_id: randomUUID() })).status).toBe(202);
  };
  const emailOf = async (user: string, type: string) => {
    const token = await h.auth.sign({ userId: user, roles: [] });
    const { body } = await callApi(h, 'GET', '/v1/preferences', token);
    return (body.preferences as { type: string; email: boolean; in_app: boolean; webhook: boolean; customised: boolean }[]).find((p) => p.type === type);
  };

  it('POSTing the List-Unsubscribe link turns that type\'s e-mail off; GET changes nothing; a tampered token is 400', async () => {
    const address = `${randomUUID()}@example.test`;
    const user = `u-${randomUUID()}`;
    expect((await callApi(h, 'PUT', `/v1/recipients/${user}`, admin, { email: address, display_name: 'Alice', locale: 'en' })).status).toBe(202);
    await waitForConsumed(h, 'router', h.tidings.topics.recipients);
    await waitUntilProcessed(h);

    await post(user, 'job_failed', 'First failure');
    const first = await mailAbout(address, 'First failure');
    const link = /^<([^>]+)>$/.exec(first.headers['list-unsubscribe'] ?? '')?.[1];
    expect(link).toMatch(new RegExp(`^${h.tidings.url}/v1/unsubscribe\\?token=`));
    expect(first.headers['list-unsubscribe-post']).toBe('List-Unsubscribe=One-Click');

    // A scanner's or a mail client's GET: a page with a form that POSTs, and nothing changed.
    const page = await fetch(link!);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    expect(page.headers.get('cache-control')).toBe('no-store');
    const html = await page.text();
    expect(html).toContain('<form method="post"');
    expect(html).toContain('job_failed');
    await waitUntilProcessed(h);
    expect(await emailOf(user, 'job_failed')).toMatchObject({ email: true, customised: false });

    // Tampered: another type under the same signature.
    const token = new URL(link!).searchParams.get('token')!;
    const [v, payload, sig] = token.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload, 'base64url').toString()), t: 'agent_offline' })).toString('base64url');
    for (const method of ['GET', 'POST']) {
      const refused = await fetch(`${h.tidings.url}/v1/unsubscribe?token=${v}.${forged}.${sig}`, { method });
      expect(refused.status).toBe(400);
      expect(await refused.json()).toMatchObject({ error: 'TIDINGS_UNSUBSCRIBE_INVALID', reasons: ['token: the unsubscribe token is not signed by this server'] });
    }

    // A mandatory type cannot be turned off, even with a valid token.
    const mandatory = signUnsubscribe({ userId: user, type: 'security_password_changed' }, Buffer.from(h.endpoints.secretKey, 'base64'));
    const conflict = await fetch(`${h.tidings.url}/v1/unsubscribe?token=${mandatory}`, { method: 'POST' });
    expect(conflict.status).toBe(409);
    expect(await conflict.json()).toMatchObject({ error: 'TIDINGS_UNSUBSCRIBE_MANDATORY' });

    // The one-click POST as RFC 8058 has mail clients send it; no JWT.
    const oneClick = await fetch(link!, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
    expect(oneClick.status).toBe(200);
    expect(await oneClick.json()).toEqual({ type: 'job_failed', email: false, changed: true });
    await waitForConsumed(h, 'projector', h.tidings.topics.preferences);
    const now = await waitFor(async () => {
      const p = await emailOf(user, 'job_failed');
      return p?.email === false ? p : undefined;
    }, 'job_failed e-mail off in the projected preferences');
    // The other channels keep the type's defaults.
    expect(now).toMatchObject({ in_app: true, webhook: true, customised: true });
    await waitForConsumed(h, 'router', h.tidings.topics.preferences);

    // Again: nothing more to change.
    const again = await fetch(link!, { method: 'POST', headers: { 'content-type': 'multipart/form-data; boundary=b' }, body: '--b\r\nContent-Disposition: form-data; name="List-Unsubscribe"\r\n\r\nOne-Click\r\n--b--\r\n' });
    expect(await again.json()).toEqual({ type: 'job_failed', email: false, changed: false });

    // The next job_failed is not e-mailed; an agent_offline after it (same user, same partition, in order) is.
    await post(user, 'job_failed', 'Second failure');
    await post(user, 'agent_offline', 'Agent went away');
    await mailAbout(address, 'Agent went away');
    await waitUntilProcessed(h);
    expect((await mails(address)).map((m) => m.subject).filter((s) => s?.includes('failure'))).toEqual([expect.stringContaining('First failure')]);
    const status = await waitFor(async () => {
      const { rows } = await h.tidings.pool.query<{ title: string; delivery: Record<string, { outcome: string }> }>('select title, delivery from notifications where user_id = $1', [user]);
      return rows.find((r) => r.title === 'Second failure');
    }, 'the second failure in the inbox');
    expect(status.delivery.email?.outcome ?? 'none').not.toBe('sent');
  });
});
