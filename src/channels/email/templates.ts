/**
 * E-mail templates: Handlebars (logic-less, HTML-escapes every {{value}}),
 * one set of three files per type and locale, `<locale>/<name>.subject.hbs`,
 * `.html.hbs` and `.text.hbs`, and a per-locale layout
 * (`<locale>/layout.html.hbs`, `<locale>/layout.text.hbs`) that the bodies
 * wrap themselves in with `{{#> layout}}…{{/layout}}`.
 *
 * Lookup, first found wins: the type's own set in the recipient's locale
 * (`pt-br`, then `pt`), then in `en`; for a `security_*` type the
 * `security_alert` set the same way; then `generic`. An operator's folder
 * (`overridesDir`, TIDINGS_EMAIL_TEMPLATES_DIR) is laid over the shipped one:
 * a file there with the same relative path wins, a new locale or type is a new
 * folder or set.
 *
 * Every file is read and compiled once, when the templates are created; a
 * problem in any of them (bad syntax, an incomplete set, a triple-stash in
 * HTML) is reported then, all together. HTML templates may not use `{{{ }}}`
 * or `{{& }}`: every value is user data. Subject and text are not HTML and are
 * not escaped; the subject is put on one line.
 */
import Handlebars from 'handlebars';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Notification, Severity } from '../../model/notification.ts';
import { typeInfo } from '../../model/catalogue.ts';
import { ConfigError } from '../../errors.ts';

export interface EmailRecipient {
  address: string;
  display_name: string | null;
  locale: string;
}

export interface RenderInput {
  notification: Notification;
  recipient: EmailRecipient;
  /** the one-click link that turns this type's e-mail off; absent for mandatory types */
  unsubscribeUrl?: string;
  deliveryId: string;
}

export interface RenderedEmail {
  subject: string;
  html: string;
  text: string;
}

export interface EmailTemplates {
  renderEmail(input: RenderInput): RenderedEmail;
  /** `<locale>/<name>` of every complete set, sorted */
  names(): string[];
}

export interface TemplateOptions {
  /** the operator's folder laid over the shipped templates */
  overridesDir?: string;
  /** the shipped templates; this module's `templates/` folder unless given */
  shippedDir?: string;
  /** named in the layout's header and footer */
  productName?: string;
}

export const SHIPPED_TEMPLATES_DIR = fileURLToPath(new URL('./templates/', import.meta.url));
export const FALLBACK_LOCALE = 'en';
const PARTS = ['subject', 'html', 'text'] as const;
type Part = (typeof PARTS)[number];
/** A set's three templates and the locale they are written in. */
type CompiledSet = Record<Part, Handlebars.TemplateDelegate> & { locale: string };

const FILE = /^([a-z]{2,3}(?:-[a-z0-9]{2,8})*)\/([a-z0-9_]+)\.(subject|html|text)\.hbs$/;
// Every severity has one (Record<Severity, …>); Nexora's medium and high look as warning and error, low grey.
const SEVERITY_COLOURS: Record<Severity, string> = {
  info: '#2563eb', success: '#16a34a', warning: '#d97706', error: '#dc2626', critical: '#991b1b', low: '#6b7280', medium: '#d97706', high: '#dc2626',
};

/** Shipped templates that serve types of another name: Nexora's types, and its approval request. */
const TEMPLATE_OF_TYPE: Readonly<Record<string, string>> = {
  workflow_approval: 'approval_requested',
  password_change: 'security_password_changed',
  account_lockout: 'security_account_locked',
  api_key_rotation: 'security_api_key_rotated',
};

export function createEmailTemplates(options: TemplateOptions = {}): EmailTemplates {
  const files = new Map<string, string>(); // relative path (lower-case, "/") → source
  const problems: string[] = [];
  for (const dir of [options.shippedDir ?? SHIPPED_TEMPLATES_DIR, options.overridesDir]) {
    if (dir === undefined) continue;
    try {
      for (const [path, source] of readTree(dir)) files.set(path, source);
    } catch (err) {
      problems.push(`folder ${dir}: ${(err as Error).message}`);
    }
  }
  const sources = new Map<string, Partial<Record<Part, string>>>(); // "<locale>/<name>" → parts
  for (const [path, source] of files) {
    const match = FILE.exec(path);
    if (!match) {
      problems.push(`${path}: not <locale>/<name>.(subject|html|text).hbs`);
      continue;
    }
    const [, locale, name, part] = match as unknown as [string, string, string, Part];
    if (part === 'html' && /\{\{~?\s*[{&]/.test(source)) problems.push(`${path}: {{{ }}} and {{& }} are refused in HTML; every value is escaped`);
    const set = sources.get(`${locale}/${name}`) ?? {};
    set[part] = source;
    sources.set(`${locale}/${name}`, set);
  }

  // One environment per locale and kind holds that locale's layout partial, compiled escaping (html) or not (text).
  const envs = new Map<string, typeof Handlebars>();
  const envFor = (locale: string, kind: 'html' | 'text'): typeof Handlebars => {
    let env = envs.get(`${kind}:${locale}`);
    if (env) return env;
    env = Handlebars.create();
    env.registerHelper('safeUrl', safeUrl);
    env.registerHelper('date', formatDate);
    const source = localeChain(locale).map((l) => sources.get(`${l}/layout`)?.[kind]).find((s) => s !== undefined);
    if (source !== undefined) env.registerPartial('layout', compile(env, source, kind, `${locale}/layout.${kind}.hbs`));
    envs.set(`${kind}:${locale}`, env);
    return env;
  };
  const compileSet = (key: string, set: Partial<Record<Part, string>>): CompiledSet | undefined => {
    const locale = key.split('/')[0]!;
    const missing = PARTS.filter((p) => set[p] === undefined);
    if (missing.length > 0) {
      problems.push(`${key}: missing ${missing.map((p) => `${p}.hbs`).join(', ')}`);
      return undefined;
    }
    const compiled = (part: Part) => compile(envFor(locale, part === 'html' ? 'html' : 'text'), set[part]!, part, `${key}.${part}.hbs`);
    return { subject: compiled('subject'), html: compiled('html'), text: compiled('text'), locale };
  };

  function compile(env: typeof Handlebars, source: string, part: Part, path: string): Handlebars.TemplateDelegate {
    try {
      env.parse(source); // compile() is lazy; parse now so that a syntax error is found at start
      return env.compile(source, { noEscape: part !== 'html' });
    } catch (err) {
      problems.push(`${path}: ${(err as Error).message.split('\n')[0]}`);
      return () => '';
    }
  }

  const sets = new Map<string, CompiledSet>();
  for (const [key, set] of sources) {
    if (key.endsWith('/layout')) {
      if (set.subject !== undefined) problems.push(`${key}: a layout has no subject`);
      continue;
    }
    const compiled = compileSet(key, set);
    if (compiled) sets.set(key, compiled);
  }
  if (!sets.has(`${FALLBACK_LOCALE}/generic`)) problems.push(`${FALLBACK_LOCALE}/generic: the last fallback is missing`);
  if (problems.length > 0) throw new ConfigError(problems.map((p) => `e-mail template ${p}`));

  // A few map lookups per e-mail; not cached by type, which producers choose freely.
  const choose = (locale: string, type: string): CompiledSet => {
    const alias = Object.hasOwn(TEMPLATE_OF_TYPE, type) ? [TEMPLATE_OF_TYPE[type]!] : [];
    const names = [type, ...alias, ...(type.startsWith('security_') || typeInfo(type).category === 'security' ? ['security_alert'] : []), 'generic'];
    const locales = [...localeChain(locale), FALLBACK_LOCALE];
    return names.flatMap((n) => locales.map((l) => sets.get(`${l}/${n}`))).find((s) => s !== undefined)!;
  };

  return {
    renderEmail(input) {
      const set = choose(normaliseLocale(input.recipient.locale), input.notification.type);
      const view = viewOf(input, options.productName ?? 'Tidings', set.locale);
      return {
        subject: set.subject(view).replace(/\s+/g, ' ').trim(),
        html: set.html(view),
        text: set.text(view).replace(/\n{3,}/g, '\n\n').trim() + '\n',
      };
    },
    names: () => [...sets.keys()].sort(),
  };
}

/** What a template sees. Every field is data: HTML escapes it, URLs are http(s) or empty. */
function viewOf({ notification: n, recipient, unsubscribeUrl, deliveryId }: RenderInput, productName: string, lang: string) {
  return {
    product: productName, lang,
    recipient: { name: recipient.display_name, address: recipient.address, locale: recipient.locale },
    id: n.id, type: n.type, category: n.category, severity: n.severity, title: n.title, message: n.message,
    severity_colour: SEVERITY_COLOURS[n.severity] ?? SEVERITY_COLOURS.info,
    action_url: safeUrl(n.action_url),
    occurred_at: formatDate(n.occurred_at),
    source: { type: n.source_type, id: n.source_id },
    data: parseData(n.data),
    mandatory: typeInfo(n.type).mandatory,
    unsubscribe_url: safeUrl(unsubscribeUrl),
    delivery_id: deliveryId,
  };
}

/** `pt_BR` → `pt-br`; anything that is not a language tag → `en`. */
export function normaliseLocale(locale: string): string {
  const tag = locale.trim().replace(/_/g, '-').toLowerCase();
  return /^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$/.test(tag) ? tag : FALLBACK_LOCALE;
}

/** `pt-br-x` → `pt-br-x`, `pt-br`, `pt`. */
function localeChain(locale: string): string[] {
  const parts = locale.split('-');
  return parts.map((_, i) => parts.slice(0, parts.length - i).join('-'));
}

/** The URL when it is http(s), else "" (no javascript: or data: in an href). */
function safeUrl(value: unknown): string {
  if (typeof value !== 'string' || !/^https?:\/\//i.test(value)) return '';
  try {
    return new URL(value).href;
  } catch {
    return '';
  }
}

/** ms since the epoch or an ISO string → "2025-12-23 10:30 UTC"; anything else as it is. */
function formatDate(value: unknown): string {
  const at = typeof value === 'number' ? new Date(value) : typeof value === 'string' && /^\d{4}-\d\d-\d\dT/.test(value) ? new Date(value) : undefined;
  if (at === undefined || Number.isNaN(at.getTime())) return value === undefined || value === null ? '' : String(value);
  return `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

function parseData(data: string): Record<string, unknown> {
  try {
    const value: unknown = JSON.parse(data);
    return value !== null && typeof value === 'object' && !Array.isArray(value) ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

/** Every file under `dir`, by its path relative to it (lower-case, "/" separated). */
function readTree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (at: string) => {
    for (const entry of readdirSync(at)) {
      const path = join(at, entry);
      if (statSync(path).isDirectory()) walk(path);
      else if (entry.endsWith('.hbs')) out.set(relative(dir, path).split(sep).join('/').toLowerCase(), readFileSync(path, 'utf8'));
    }
  };
  walk(dir);
  return out;
}
