/**
 * What a webhook POSTs: the platform a URL belongs to, and the JSON body of a
 * notification in that platform's format. Pure: no I/O, no clock.
 *
 * - generic: a Standard Webhooks envelope `{ type, timestamp, data }`, data
 *   being the notification, or for a type with a record of its own the
 *   record its receivers expect (access_denied: the seed's DenialNotification);
 * - discord: one embed; slack: Block Kit blocks with a `text` fallback;
 * - teams: a MessageCard for legacy Office 365 connectors (webhook.office.com),
 *   an Adaptive Card message for Workflows (Power Automate) URLs.
 */
import { assertNever } from '../../assert-never.ts';
import { SEVERITIES, type Notification, type Severity } from '../../model/notification.ts';
import type { WebhookFormat } from '../../model/routing.ts';
import { denialNotificationOf } from '../../model/access-denial.ts';

/** The format a URL's host calls for; anything unrecognised (or unparsable) is generic. */
export function detectFormat(url: string): WebhookFormat {
  const parsed = parseHttpUrl(url);
  if (!parsed) return 'generic';
  // Host and path, never a substring of the whole URL: `?x=hooks.slack.com/` must stay generic.
  const host = parsed.hostname.toLowerCase();
  if ((isOrUnder(host, 'discord.com') || isOrUnder(host, 'discordapp.com')) && /^\/api\/(v\d+\/)?webhooks\//.test(parsed.pathname)) return 'discord';
  if (host === 'hooks.slack.com') return 'slack';
  if (isLegacyTeams(host) || isOrUnder(host, 'logic.azure.com') || isOrUnder(host, 'powerplatform.com')) return 'teams';
  return 'generic';
}

/** The JSON body for `notification` in `format`; `url` tells the two Teams kinds apart. */
export function renderPayload(format: WebhookFormat, url: string, notification: Notification): string {
  switch (format) {
    case 'generic': return JSON.stringify(generic(notification));
    case 'discord': return JSON.stringify(discord(notification));
    case 'slack': return JSON.stringify(slack(notification));
    case 'teams': {
      const host = parseHttpUrl(url)?.hostname.toLowerCase() ?? '';
      return JSON.stringify(isLegacyTeams(host) ? messageCard(notification) : adaptiveCard(notification));
    }
    default: return assertNever(format);
  }
}

const COLOURS: Readonly<Record<Severity, number>> = {
  info: 3447003, // blue
  success: 3066993, // green
  warning: 15105570, // orange
  error: 15158332, // red
  critical: 10038562, // dark red
  low: 9807270, // grey
  medium: 15105570, // orange, as warning
  high: 15158332, // red, as error
};
const GREY = 9807270;

// Platform limits, in UTF-16 code units (a conservative count of characters).
const DISCORD = { title: 256, description: 4096, fieldValue: 1024 } as const;
const SLACK = { header: 150, text: 3000 } as const;

/** Types whose generic webhook data is a record of its own rather than the notification. */
const GENERIC_DATA: Readonly<Record<string, (n: Notification) => unknown>> = {
  access_denied: denialNotificationOf,
};

function generic(n: Notification) {
  const createdAt = new Date(n.created_at).toISOString();
  return {
    type: n.type,
    timestamp: createdAt,
    data: (Object.hasOwn(GENERIC_DATA, n.type) ? GENERIC_DATA[n.type]?.(n) : undefined) ?? notificationView(n, createdAt),
  };
}

/** The shape API clients see (NotificationView), without the per-reader `read`. */
function notificationView(n: Notification, createdAt: string) {
  return {
    id: n.id,
    user_id: n.user_id,
    type: n.type,
    category: n.category,
    severity: n.severity,
    title: n.title,
    message: n.message,
    data: parseData(n.data),
    action_url: safeActionUrl(n.action_url),
    source: { type: n.source_type, id: n.source_id },
    occurred_at: new Date(n.occurred_at).toISOString(),
    created_at: createdAt,
  };
}

function discord(n: Notification) {
  const url = safeActionUrl(n.action_url);
  return {
    embeds: [{
      title: clip(n.title, DISCORD.title),
      // Discord refuses an empty description; leave it out instead.
      ...(n.message ? { description: clip(n.message, DISCORD.description) } : {}),
      color: colourOf(n.severity),
      fields: [
        { name: 'Type', value: clip(n.type, DISCORD.fieldValue), inline: true },
        { name: 'Severity', value: clip(n.severity, DISCORD.fieldValue), inline: true },
      ],
      timestamp: new Date(n.created_at).toISOString(),
      ...(url ? { url } : {}),
    }],
  };
}

function slack(n: Notification) {
  const url = safeActionUrl(n.action_url);
  // Types are at most 100 characters (src/model/validate.ts) and severities a short enum: no clipping needed.
  const context = [`*Type:* ${slackEscape(n.type)}`, `*Severity:* ${slackEscape(n.severity)}`];
  // `|` ends a Slack link's URL, so it is percent-encoded there; a link too long to send whole is left out.
  const link = url ? `<${slackEscape(url.replaceAll('|', '%7C'))}|Open>` : '';
  if (link && link.length <= SLACK.text) context.push(link);
  return {
    // Slack shows `text` in push notifications and where blocks cannot be drawn.
    text: clip(n.message ? `${n.title}: ${n.message}` : n.title, SLACK.text, slackEscape),
    blocks: [
      // plain_text is not parsed for links or mentions, so it is not escaped.
      { type: 'header', text: { type: 'plain_text', text: clip(n.title, SLACK.header), emoji: true } },
      // Slack refuses a section with empty text.
      ...(n.message ? [{ type: 'section', text: { type: 'mrkdwn', text: clip(n.message, SLACK.text, slackEscape) } }] : []),
      { type: 'context', elements: context.map((text) => ({ type: 'mrkdwn', text })) },
    ],
  };
}

function messageCard(n: Notification) {
  const url = safeActionUrl(n.action_url);
  return {
    '@type': 'MessageCard',
    '@context': 'http://schema.org/extensions',
    themeColor: colourOf(n.severity).toString(16).padStart(6, '0'),
    summary: n.title,
    title: n.title,
    ...(n.message ? { text: n.message } : {}),
    sections: [{ facts: facts(n) }],
    ...(url ? { potentialAction: [{ '@type': 'OpenUri', name: 'Open', targets: [{ os: 'default', uri: url }] }] } : {}),
  };
}

function adaptiveCard(n: Notification) {
  const url = safeActionUrl(n.action_url);
  return {
    type: 'message',
    attachments: [{
      contentType: 'application/vnd.microsoft.card.adaptive',
      contentUrl: null,
      content: {
        $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
        type: 'AdaptiveCard',
        version: '1.4',
        body: [
          { type: 'TextBlock', text: n.title, weight: 'Bolder', size: 'Medium', wrap: true },
          ...(n.message ? [{ type: 'TextBlock', text: n.message, wrap: true }] : []),
          { type: 'FactSet', facts: facts(n).map(({ name, value }) => ({ title: name, value })) },
        ],
        actions: url ? [{ type: 'Action.OpenUrl', title: 'Open', url }] : [],
      },
    }],
  };
}

function facts(n: Notification): { name: string; value: string }[] {
  return [{ name: 'Type', value: n.type }, { name: 'Severity', value: n.severity }];
}

/** Legacy Office 365 connector hosts: `webhook.office.com` and `<tenant>.webhook.office.com`. */
function isLegacyTeams(host: string): boolean {
  return isOrUnder(host, 'webhook.office.com');
}

function isOrUnder(host: string, domain: string): boolean {
  return host === domain || host.endsWith(`.${domain}`);
}

function parseHttpUrl(text: string): URL | undefined {
  try {
    const url = new URL(text);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url : undefined;
  } catch {
    return undefined;
  }
}

/** `action_url` when it is http(s); a `javascript:` or `data:` link is never put in front of a user. */
function safeActionUrl(actionUrl: string | null): string | null {
  return actionUrl === null ? null : parseHttpUrl(actionUrl)?.href ?? null;
}

/** The parsed `data` text; text that is not JSON is passed on as it is rather than dropped. */
function parseData(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

function colourOf(severity: string): number {
  return isSeverity(severity) ? COLOURS[severity] : GREY;
}

function isSeverity(value: string): value is Severity {
  return (SEVERITIES as readonly string[]).includes(value);
}

/** Slack mrkdwn control characters; an unescaped `<!channel>` in a message would ping everyone. */
function slackEscape(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

/**
 * `escape(text)` in at most `max` UTF-16 code units, cut with "…" when longer.
 * Cuts between code points of the unescaped text, so neither a surrogate pair
 * nor an escape such as `&amp;` is split.
 */
function clip(text: string, max: number, escape: (text: string) => string = (t) => t): string {
  const whole = escape(text);
  if (whole.length <= max) return whole;
  let out = '';
  for (const char of text) {
    const next = escape(char);
    if (out.length + next.length > max - 1) break;
    out += next;
  }
  return `${out}…`;
}
