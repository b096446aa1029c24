import { describe, expect, it } from 'vitest';
import { detectFormat, renderPayload } from '../../src/channels/webhook/payload.ts';
import type { Notification } from '../../src/model/notification.ts';
import type { WebhookFormat } from '../../src/model/routing.ts';

const created = Date.UTC(2024, 0, 15, 10, 30, 0);
const notification = (overrides: Partial<Notification> = {}): Notification => ({
  id: 'n1', user_id: 'u1', type: 'job_completed', category: 'job', severity: 'success', title: 'Job Completed',
  message: "Job 'NTLM Attack' completed successfully", data: '{"job_id":42}', action_url: 'https://app.example.test/jobs/42',
  source_type: 'job', source_id: '42', source_key: 'job:42:job_completed:u1', event_id: 'e1', occurred_at: created - 1000, created_at: created,
  ...overrides,
});

const URLS = {
  generic: 'https://hooks.example.test/tidings',
  discord: 'https://discord.com/api/webhooks/123/abc',
  slack: 'https://hooks.slack.com/services/T000/B000/XXXX',
  legacyTeams: 'https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456',
  workflows: 'https://prod-01.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=x',
} as const;

// Loosely typed views of a rendered body, for reading fields back in assertions.
type Json = Record<string, unknown>;
const render = (format: WebhookFormat, n: Notification = notification(), url: string = URLS[format === 'teams' ? 'workflows' : format]) =>
  JSON.parse(renderPayload(format, url, n)) as Json;
const embed = (n?: Notification) => (render('discord', n).embeds as Json[])[0] as Json;
const blocks = (n?: Notification) => render('slack', n).blocks as Json[];
const card = (n?: Notification) => ((render('teams', n).attachments as Json[])[0] as Json).content as Json;

describe('detectFormat', () => {
  it.each<[string, WebhookFormat]>([
    ['https://discord.com/api/webhooks/123/abc', 'discord'],
    ['https://discordapp.com/api/webhooks/123/abc', 'discord'],
    ['https://canary.discord.com/api/v10/webhooks/123/abc', 'discord'],
    ['https://discord.com/channels/1/2', 'generic'],
    ['https://hooks.slack.com/services/T000/B000/XXXX', 'slack'],
    ['https://HOOKS.SLACK.COM/services/T000/B000/XXXX', 'slack'],
    ['https://webhook.office.com/webhookb2/abc', 'teams'],
    ['https://contoso.webhook.office.com/webhookb2/abc', 'teams'],
    ['https://prod-01.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke', 'teams'],
    ['https://default123.ab.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/abc', 'teams'],
    ['https://hooks.example.test/tidings', 'generic'],
    // Hostile look-alikes: the platform's name elsewhere in the URL, or a host that merely ends in it.
    ['https://evil.example/?x=hooks.slack.com/', 'generic'],
    ['https://evil.example/discord.com/api/webhooks/1/2', 'generic'],
    ['https://hooks.slack.com.evil.example/services/x', 'generic'],
    ['https://notdiscord.com/api/webhooks/1/2', 'generic'],
    ['https://evilwebhook.office.com/webhookb2/abc', 'generic'],
    ['https://hooks.slack.com@evil.example/services/x', 'generic'],
    ['not a url', 'generic'],
    ['ftp://hooks.slack.com/services/x', 'generic'],
  ])('given %s, when detected, then it is %s', (url, format) => {
    expect(detectFormat(url)).toBe(format);
  });
});

describe('renderPayload: generic', () => {
  it('given a notification, when rendered, then it is a Standard Webhooks envelope of the notification', () => {
    expect(render('generic')).toEqual({
      type: 'job_completed',
      timestamp: '2024-01-15T10:30:00.000Z',
      data: {
        id: 'n1', user_id: 'u1', type: 'job_completed', category: 'job', severity: 'success', title: 'Job Completed',
        message: "Job 'NTLM Attack' completed successfully", data: { job_id: 42 }, action_url: 'https://app.example.test/jobs/42',
        source: { type: 'job', id: '42' }, occurred_at: '2024-01-15T10:29:59.000Z', created_at: '2024-01-15T10:30:00.000Z',
      },
    });
  });

  it('given data that is not valid JSON, when rendered, then it is passed on as text', () => {
    expect((render('generic', notification({ data: '{not json' })).data as Json).data).toBe('{not json');
  });

  it('given a javascript: action URL, when rendered, then it is left out', () => {
    expect((render('generic', notification({ action_url: 'javascript:alert(1)' })).data as Json).action_url).toBeNull();
  });
});

describe('renderPayload: discord', () => {
  it('given a notification, when rendered, then it is one embed coloured by severity', () => {
    expect(render('discord')).toEqual({
      embeds: [{
        title: 'Job Completed',
        description: "Job 'NTLM Attack' completed successfully",
        color: 3066993,
        fields: [{ name: 'Type', value: 'job_completed', inline: true }, { name: 'Severity', value: 'success', inline: true }],
        timestamp: '2024-01-15T10:30:00.000Z',
        url: 'https://app.example.test/jobs/42',
      }],
    });
  });

  it.each([['info', 3447003], ['success', 3066993], ['warning', 15105570], ['error', 15158332], ['critical', 10038562], ['unheard-of', 9807270]] as const)(
    'given severity %s, when rendered, then the colour is %i', (severity, color) => {
      expect(embed(notification({ severity: severity as Notification['severity'] })).color).toBe(color);
    });

  it('given a title and message over Discord limits, when rendered, then they are cut to 256 and 4096 with "…"', () => {
    const e = embed(notification({ title: 't'.repeat(300), message: 'm'.repeat(5000) }));
    expect(e.title).toBe(`${'t'.repeat(255)}…`);
    expect(e.description).toBe(`${'m'.repeat(4095)}…`);
  });

  it('given an emoji at the cut, when truncated, then no surrogate pair is split', () => {
    const title = embed(notification({ title: `${'t'.repeat(254)}😀😀😀` })).title as string;
    expect(title).toBe(`${'t'.repeat(254)}…`);
  });

  it('given a javascript: action URL, when rendered, then the embed has no url', () => {
    expect(embed(notification({ action_url: 'javascript:alert(1)' }))).not.toHaveProperty('url');
  });

  it('given an empty message, when rendered, then the embed has no description (Discord refuses an empty one)', () => {
    expect(embed(notification({ message: '' }))).not.toHaveProperty('description');
  });
});

describe('renderPayload: slack', () => {
  it('given a notification, when rendered, then it is header, section and context blocks with a text fallback', () => {
    expect(render('slack')).toEqual({
      text: "Job Completed: Job 'NTLM Attack' completed successfully",
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'Job Completed', emoji: true } },
        { type: 'section', text: { type: 'mrkdwn', text: "Job 'NTLM Attack' completed successfully" } },
        { type: 'context', elements: [
          { type: 'mrkdwn', text: '*Type:* job_completed' },
          { type: 'mrkdwn', text: '*Severity:* success' },
          { type: 'mrkdwn', text: '<https://app.example.test/jobs/42|Open>' },
        ] },
      ],
    });
  });

  it('given mrkdwn control characters in user text, when rendered, then they are escaped', () => {
    const body = render('slack', notification({ title: 'A & B', message: '<!channel> 1 < 2 & 3 > 2 <https://evil.example|click>' }));
    expect((blocks(notification({ message: '<!channel> & >' }))[1] as Json).text).toEqual({ type: 'mrkdwn', text: '&lt;!channel&gt; &amp; &gt;' });
    expect(body.text).toBe('A &amp; B: &lt;!channel&gt; 1 &lt; 2 &amp; 3 &gt; 2 &lt;https://evil.example|click&gt;');
  });

  it('given a title and message over Slack limits, when rendered, then the header is cut to 150 and the section to 3000', () => {
    const [header, section] = blocks(notification({ title: 'h'.repeat(200), message: 'm'.repeat(5000) })) as [Json, Json];
    expect((header.text as Json).text).toBe(`${'h'.repeat(149)}…`);
    expect((section.text as Json).text).toBe(`${'m'.repeat(2999)}…`);
  });

  it('given escapes near the cut, when truncated, then no escape is split and the limit holds', () => {
    const text = ((blocks(notification({ message: `${'m'.repeat(2995)}&&&&` }))[1] as Json).text as Json).text as string;
    expect(text).toBe(`${'m'.repeat(2995)}…`);
    expect(text.length).toBeLessThanOrEqual(3000);
  });

  it('given a javascript: action URL, when rendered, then no link is added', () => {
    const context = blocks(notification({ action_url: 'javascript:alert(1)' }))[2] as Json;
    expect(context.elements).toHaveLength(2);
  });

  it('given an empty message, when rendered, then there is no section block (Slack refuses empty text)', () => {
    expect(blocks(notification({ message: '' })).map((b) => b.type)).toEqual(['header', 'context']);
  });
});

describe('renderPayload: teams', () => {
  it('given a legacy webhook.office.com URL, when rendered, then it is a MessageCard', () => {
    expect(render('teams', notification({ severity: 'error' }), URLS.legacyTeams)).toEqual({
      '@type': 'MessageCard',
      '@context': 'http://schema.org/extensions',
      themeColor: 'e74c3c',
      summary: 'Job Completed',
      title: 'Job Completed',
      text: "Job 'NTLM Attack' completed successfully",
      sections: [{ facts: [{ name: 'Type', value: 'job_completed' }, { name: 'Severity', value: 'error' }] }],
      potentialAction: [{ '@type': 'OpenUri', name: 'Open', targets: [{ os: 'default', uri: 'https://app.example.test/jobs/42' }] }],
    });
  });

  it('given a Workflows URL, when rendered, then it is a message with an Adaptive Card', () => {
    expect(render('teams', notification(), URLS.workflows)).toEqual({
      type: 'message',
      attachments: [{
        contentType: 'application/vnd.microsoft.card.adaptive',
        contentUrl: null,
        content: {
          $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
          type: 'AdaptiveCard',
          version: '1.4',
          body: [
            { type: 'TextBlock', text: 'Job Completed', weight: 'Bolder', size: 'Medium', wrap: true },
            { type: 'TextBlock', text: "Job 'NTLM Attack' completed successfully", wrap: true },
            { type: 'FactSet', facts: [{ title: 'Type', value: 'job_completed' }, { title: 'Severity', value: 'success' }] },
          ],
          actions: [{ type: 'Action.OpenUrl', title: 'Open', url: 'https://app.example.test/jobs/42' }],
        },
      }],
    });
  });

  it('given a javascript: action URL, when rendered for either kind, then there is no action', () => {
    const n = notification({ action_url: 'javascript:alert(1)' });
    expect(card(n).actions).toEqual([]);
    expect(render('teams', n, URLS.legacyTeams)).not.toHaveProperty('potentialAction');
  });
});

describe('renderPayload: any format', () => {
  it.each<WebhookFormat>(['generic', 'discord', 'slack', 'teams'])('given quotes, backslashes and newlines in text, when rendered as %s, then the body is valid JSON holding them', (format) => {
    const title = 'He said "hi" \\ }\n{';
    const body = renderPayload(format, URLS.generic, notification({ title }));
    expect(body).toContain(JSON.stringify(title).slice(1, -1));
  });
});

describe('renderPayload: access denials', () => {
  it('given an access_denied notification, when rendered generic, then data is the seed\'s DenialNotification, every field in order', () => {
    const n = notification({ type: 'access_denied', category: 'access', event_id: 'ev-7', data: JSON.stringify({ reason: 'REPLAY', checkpointCode: 'cp-1', toZoneCode: 'zone-b' }) });
    const body = render('generic', n);
    expect(body).toMatchObject({ type: 'access_denied', timestamp: new Date(created).toISOString() });
    expect(JSON.stringify(body.data)).toBe(JSON.stringify({
      eventId: 'ev-7', checkpointId: null, checkpointCode: 'cp-1', userId: null, userCode: null, fromZoneId: null, fromZoneCode: null,
      toZoneId: null, toZoneCode: 'zone-b', reason: 'REPLAY', details: null, timestamp: created - 1000,
    }));
  });

  it('given the denial carries its own eventId and timestamp, then they are kept', () => {
    const n = notification({ type: 'access_denied', event_id: 'ev-7', data: JSON.stringify({ eventId: 'own', timestamp: 5, checkpointCode: 'cp', reason: 'REPLAY' }) });
    expect(render('generic', n).data).toMatchObject({ eventId: 'own', timestamp: 5 });
  });

  it('given an access_denied notification, when rendered for Slack, then it is an ordinary message', () => {
    expect(render('slack', notification({ type: 'access_denied', data: '{"checkpointCode":"cp","reason":"REPLAY"}' }))).toHaveProperty('blocks');
  });
});

describe('renderPayload: Nexora\'s severities', () => {
  it.each<WebhookFormat>(['generic', 'discord', 'slack', 'teams'])('given low, medium and high, when rendered as %s, then each is named and the colours follow warning and error', (format) => {
    for (const severity of ['low', 'medium', 'high'] as const) expect(renderPayload(format, URLS[format === 'teams' ? 'workflows' : format], notification({ severity }))).toContain(severity);
  });

  it('colours high as error and medium as warning on Discord and legacy Teams, low grey', () => {
    const discord = (severity: Notification['severity']) => ((render('discord', notification({ severity })).embeds as Json[])[0]!).color;
    expect([discord('high'), discord('medium'), discord('low')]).toEqual([discord('error'), discord('warning'), 9807270]);
    const card = (severity: Notification['severity']) => render('teams', notification({ severity }), URLS.legacyTeams).themeColor;
    expect(card('high')).toBe(card('error'));
  });
});
