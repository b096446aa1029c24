/**
 * What operators see of dead letters and how one is redriven, as pure
 * functions over records already read: the DLQs by their short names, letter
 * views that never show a secret, filters, the newest-first page over several
 * partitions with its cursor, and where a letter goes back to.
 */
import { TOPICS, type SchemaName, type TopicKey, type TopicNames } from './topics.ts';
import { emailPriority, type DeliveryCommand } from '../model/routing.ts';
import type { DeadLetterRedrive } from '../model/dead-letter-redrive.ts';
import { ValidationError } from '../errors.ts';

/** The dead-letter topics operators list and redrive, by the name the API and the CLI use. */
export const DLQ_TOPICS = { events: 'eventsDlq', accepted: 'acceptedDlq', webhook: 'deliveryWebhookDlq', email: 'deliveryEmailDlq' } as const satisfies Record<string, TopicKey>;
export type DlqName = keyof typeof DLQ_TOPICS;
export const DLQ_NAMES = Object.keys(DLQ_TOPICS) as DlqName[];

export function isDlqName(name: string): name is DlqName {
  return Object.hasOwn(DLQ_TOPICS, name);
}

/**
 * Where a letter of each DLQ may go back to: the first topic unless its
 * x-tidings-original-topic names another one of the list. Compacted topics are
 * never written back: an old value would replace the newer state of its key.
 */
const REDRIVE_TO = {
  events: ['events'],
  accepted: ['accepted', 'inbox', 'reads', 'audit', 'deliveryResults'],
  webhook: ['deliveryWebhook'],
  email: ['deliveryEmail', 'deliveryEmailPriority'],
} as const satisfies Record<DlqName, readonly TopicKey[]>;

/** Header of a redriven record naming the letter it came from: `<dlq topic>:<partition>:<offset>`. */
export const REDRIVE_OF_HEADER = 'x-tidings-redrive-of';

/** Headers the dead-lettering added; the rest are the original's. */
const ADDED_HEADERS = /^x-tidings-(error-|original-|processor$|dead-lettered-at$|value-dropped$|status$|attempts$|redrive-of$)/;

/** bytes of an undecoded value shown (base64) at most */
export const VALUE_PREVIEW_BYTES = 1_024;

/** Schemas whose values may hold secrets (sealed webhook secrets, credentials in URLs or headers): never shown. */
const WITHHELD: ReadonlySet<SchemaName> = new Set<SchemaName>(['WebhookEndpoints', 'DeliveryCommand']);

/** A dead letter as read from its topic; `command` is the decoded value of a webhook or e-mail letter. */
export interface Letter {
  partition: number;
  offset: bigint;
  /** ms since the epoch */
  timestamp: number;
  key: string | null;
  value: Buffer | null;
  headers: Record<string, string>;
  command?: DeliveryCommand;
}

/** Whether a DLQ's values are delivery commands: shown as `delivery` (never their bytes), redriven as a first attempt again. */
export function holdsDeliveries(dlq: DlqName): dlq is 'webhook' | 'email' {
  return dlq === 'webhook' || dlq === 'email';
}

/** An e-mail address as listings show it: the first character of the local part and the domain (`a***@example.test`). */
export function maskAddress(address: string): string {
  const at = address.lastIndexOf('@');
  if (at < 0) return '***';
  return `${address.slice(0, Math.min(at, 1))}***${address.slice(at)}`;
}

/** Key of a letter's record on notification.dlq.redrives. */
export function redriveKey(dlqBase: string, partition: number, offset: bigint | string): string {
  return `${dlqBase}:${partition}:${offset}`;
}

export interface LetterFilter {
  userId?: string;
  endpointId?: string;
  code?: string;
}

/** The last part of a source key (its user id), unescaped; the key itself when it has no unescaped ":". */
export function lastKeyPart(key: string): string {
  let start = 0;
  for (let i = 0; i < key.length; i++) {
    if (key[i] === '\\') i++;
    else if (key[i] === ':') start = i + 1;
  }
  return key.slice(start).replace(/\\(.)/g, '$1');
}

/** Whether a letter passes the filter: user id (its key, or the user part of a source key), endpoint id (webhook letters), error code. */
export function matchesFilter(letter: Letter, filter: LetterFilter): boolean {
  if (filter.code !== undefined && letter.headers['x-tidings-error-code'] !== filter.code) return false;
  if (filter.endpointId !== undefined && letter.command?.webhook?.endpoint_id !== filter.endpointId) return false;
  if (filter.userId !== undefined && letter.key !== filter.userId && (letter.key === null || lastKeyPart(letter.key) !== filter.userId)) return false;
  return true;
}

/** The registry key of a topic name of this deployment. */
export function topicKeyOf(names: TopicNames, name: string | undefined): TopicKey | undefined {
  return name === undefined ? undefined : (Object.keys(names) as TopicKey[]).find((key) => names[key] === name);
}

/** The schema to show a letter's value with: its original topic's, when that topic has one that may be shown. */
export function displaySchema(names: TopicNames, letter: Letter): { schema: SchemaName } | { withheld: string } | undefined {
  const key = topicKeyOf(names, letter.headers['x-tidings-original-topic']);
  if (key === undefined) return undefined;
  const value: string = TOPICS[key].value;
  if (value === 'original bytes') return undefined;
  const schema = value as SchemaName;
  return WITHHELD.has(schema) ? { withheld: `a ${schema} may hold secrets` } : { schema };
}

export type ValueView =
  | { bytes: number; schema: SchemaName; decoded: unknown }
  | { bytes: number; base64: string; truncated: boolean }
  | { bytes: number; withheld: string };

/** A delivery without its webhook target's secrets, credentials (URL path and query, header values) or anything else sealed, and with its e-mail address masked. */
export function deliveryView(command: DeliveryCommand): Record<string, unknown> {
  const target = command.webhook;
  const email = command.email;
  return {
    delivery_id: command.delivery_id, user_id: command.user_id, channel: command.channel, attempt: command.attempt,
    created_at: new Date(command.created_at).toISOString(), notification: command.notification,
    webhook: target && {
      endpoint_id: target.endpoint_id, global: target.global, format: target.format, timeout_ms: target.timeout_ms,
      origin: URL.canParse(target.url) ? new URL(target.url).origin : null, header_names: Object.keys(target.headers),
      signed: target.secret_encrypted !== null,
    },
    email: email && { address: maskAddress(email.address), locale: email.locale },
  };
}

/** A letter as the API and the CLI show it. `value` is what the caller decoded or chose to withhold. */
export function letterView(letter: Letter, value: ValueView | null, redrive: DeadLetterRedrive | undefined): Record<string, unknown> {
  const h = letter.headers;
  const number = (v: string | undefined) => (v === undefined || v === '' || !Number.isFinite(Number(v)) ? null : Number(v));
  return {
    partition: letter.partition,
    offset: letter.offset.toString(),
    key: letter.key,
    timestamp: new Date(letter.timestamp).toISOString(),
    error_code: h['x-tidings-error-code'] ?? null,
    error_reason: h['x-tidings-error-reason'] ?? null,
    processor: h['x-tidings-processor'] ?? null,
    dead_lettered_at: h['x-tidings-dead-lettered-at'] ?? null,
    original: h['x-tidings-original-topic'] === undefined ? null
      : { topic: h['x-tidings-original-topic'], partition: number(h['x-tidings-original-partition']), offset: h['x-tidings-original-offset'] ?? null },
    status: number(h['x-tidings-status']),
    attempts: number(h['x-tidings-attempts']),
    value_dropped: h['x-tidings-value-dropped'] ?? null,
    ...(letter.command ? { delivery: deliveryView(letter.command) } : {}),
    value,
    redriven_at: redrive ? new Date(redrive.redriven_at).toISOString() : null,
    redriven_to: redrive?.redriven_to ?? null,
    redriven_by: redrive?.by ?? null,
  };
}

/** An undecoded value: its size and at most VALUE_PREVIEW_BYTES of it in base64. */
export function bytesView(value: Buffer): ValueView {
  return { bytes: value.length, base64: value.subarray(0, VALUE_PREVIEW_BYTES).toString('base64'), truncated: value.length > VALUE_PREVIEW_BYTES };
}

/** What redriving a letter writes, or why it cannot be redriven. */
export type RedrivePlan =
  | { kind: 'raw'; to: TopicKey; key: string | null; value: Buffer; headers: Record<string, string> }
  | { kind: 'delivery'; to: 'deliveryWebhook' | 'deliveryEmail' | 'deliveryEmailPriority'; command: DeliveryCommand; headers: Record<string, string> }
  | { kind: 'refused'; reason: string };

/**
 * How a letter goes back: a webhook or e-mail delivery as a first attempt
 * again (attempt 1, the same delivery id, so receivers see the same webhook-id
 * or Message-ID; a mandatory or critical e-mail to the priority lane), any other
 * letter as its original key, value and headers on its original topic.
 */
export function planRedrive(dlq: DlqName, letter: Letter, names: TopicNames): RedrivePlan {
  const redriveOf = { [REDRIVE_OF_HEADER]: redriveKey(names[DLQ_TOPICS[dlq]], letter.partition, letter.offset) };
  if (letter.value === null) return { kind: 'refused', reason: letter.headers['x-tidings-value-dropped'] ? 'its value was too large to keep' : 'it has no value' };
  if (holdsDeliveries(dlq)) {
    if (!letter.command) return { kind: 'refused', reason: 'its value is not a DeliveryCommand' };
    const to = dlq === 'email' && emailPriority(letter.command.notification) === 'high' ? 'deliveryEmailPriority' : REDRIVE_TO[dlq][0];
    return { kind: 'delivery', to, command: { ...letter.command, attempt: 1 }, headers: redriveOf };
  }
  const allowed: readonly TopicKey[] = REDRIVE_TO[dlq];
  const original = letter.headers['x-tidings-original-topic'];
  const to = original === undefined ? allowed[0] : allowed.find((key) => names[key] === original);
  if (to === undefined) return { kind: 'refused', reason: `its original topic ${original} is not one letters of ${dlq} go back to` };
  const headers = Object.fromEntries(Object.entries(letter.headers).filter(([name]) => !ADDED_HEADERS.test(name)));
  return { kind: 'raw', to, key: letter.key, value: letter.value, headers: { ...headers, ...redriveOf } };
}

/** The letters of one partition read for a page: matching ones, newest (highest offset) first. */
export interface PartitionWindow {
  partition: number;
  letters: Letter[];
  /** offset below which this window holds nothing: the window's start, or the oldest letter kept when older ones were dropped */
  floor: bigint;
  /** the partition's first offset */
  low: bigint;
  /** the exclusive upper bound the window was read below */
  upper: bigint;
}

/**
 * Up to `limit` letters, newest first across partitions (by record time; each
 * partition in offset order), and per partition the offset the next page reads
 * below, or null when every partition is read down to its first offset. A page
 * stops early, with a cursor, where a window ends above its partition's start.
 */
export function pageNewestFirst(windows: readonly PartitionWindow[], limit: number): { page: Letter[]; next: Map<number, bigint> | null } {
  const at = new Map(windows.map((w) => [w.partition, 0]));
  const positions = new Map(windows.map((w) => [w.partition, w.upper]));
  const page: Letter[] = [];
  while (page.length < limit) {
    const open = windows.filter((w) => (at.get(w.partition) ?? 0) < w.letters.length);
    const blocked = windows.some((w) => (at.get(w.partition) ?? 0) >= w.letters.length && w.floor > w.low);
    if (open.length === 0 || blocked) break;
    const head = (w: PartitionWindow) => w.letters[at.get(w.partition) ?? 0] as Letter;
    const best = open.reduce((a, b) => (head(b).timestamp > head(a).timestamp ? b : a));
    const letter = head(best);
    page.push(letter);
    at.set(best.partition, (at.get(best.partition) ?? 0) + 1);
    positions.set(best.partition, letter.offset);
  }
  for (const w of windows) if ((at.get(w.partition) ?? 0) >= w.letters.length) positions.set(w.partition, w.floor);
  const more = windows.some((w) => (positions.get(w.partition) ?? w.low) > w.low);
  return { page, next: more ? positions : null };
}

/** An opaque cursor of per-partition positions: base64url of JSON [[partition, "offset"], …]. */
export function encodeLetterCursor(positions: Map<number, bigint>): string {
  return Buffer.from(JSON.stringify([...positions].map(([p, o]) => [p, o.toString()]))).toString('base64url');
}

/** @throws ValidationError when the cursor was not made by encodeLetterCursor */
export function decodeLetterCursor(cursor: string | undefined): Map<number, bigint> | undefined {
  if (cursor === undefined) return undefined;
  const invalid = new ValidationError(['cursor: not a cursor from this API']);
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (!Array.isArray(parsed) || parsed.length === 0 || parsed.length > 10_000) throw invalid;
  const positions = new Map<number, bigint>();
  for (const pair of parsed as unknown[]) {
    if (!Array.isArray(pair) || pair.length !== 2) throw invalid;
    const [p, o] = pair as unknown[];
    if (!Number.isSafeInteger(p) || (p as number) < 0 || typeof o !== 'string' || !/^\d{1,19}$/.test(o) || positions.has(p as number)) throw invalid;
    positions.set(p as number, BigInt(o));
  }
  return positions;
}

/** A letter named as `<partition>:<offset>` (the CLI's argument). */
export function parseLetterRef(text: string): { partition: number; offset: string } | undefined {
  const match = /^(\d{1,9}):(\d{1,19})$/.exec(text);
  return match ? { partition: Number(match[1]), offset: BigInt(match[2] as string).toString() } : undefined;
}
