/**
 * `tidings dlq list <topic> [--limit N] [--user ID] [--endpoint ID] [--code CODE] [--cursor C]`
 * prints one line per dead letter, newest first;
 * `tidings dlq redrive <topic> (--all | --endpoint ID | <partition>:<offset>…) [--force]`
 * writes letters back and prints the counts. <topic> is events, accepted, webhook or email.
 */
import { userInfo } from 'node:os';
import type { Config } from '../config.ts';
import { createLogger } from '../logger.ts';
import { resolveEndpoints } from './services.ts';
import { createKafka, topicNames, withAdmin } from '../kafka/client.ts';
import { createCodec } from '../kafka/codec.ts';
import { valueSchemas } from '../kafka/topics.ts';
import { createPublisher } from '../kafka/publisher.ts';
import { createDeadLetterStore, type RedriveSelection } from '../kafka/dead-letter-store.ts';
import { DLQ_NAMES, DLQ_TOPICS, decodeLetterCursor, encodeLetterCursor, isDlqName, parseLetterRef, type DlqName, type LetterFilter } from '../kafka/dead-letter-view.ts';

export const DLQ_USAGE = `usage: tidings dlq list <topic> [--limit N] [--user ID] [--endpoint ID] [--code CODE] [--cursor C]
       tidings dlq redrive <topic> (--all | --endpoint ID | <partition>:<offset>...) [--force]
  <topic>: ${DLQ_NAMES.join(', ')}`;

export type DlqArgs =
  | { action: 'list'; dlq: DlqName; limit: number; filter: LetterFilter; cursor?: string }
  | { action: 'redrive'; dlq: DlqName; selection: RedriveSelection; force: boolean };

/** The command's arguments, or what is wrong with them. */
export function parseDlqArgs(args: readonly string[]): DlqArgs | { error: string } {
  const [action, dlq, ...rest] = args;
  if (action !== 'list' && action !== 'redrive') return { error: 'give list or redrive' };
  if (dlq === undefined || !isDlqName(dlq)) return { error: `<topic> is one of ${DLQ_NAMES.join(', ')}` };
  const options = new Map<string, string>();
  const flags = new Set<string>();
  const positional: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i] as string;
    if (arg === '--all' || arg === '--force') flags.add(arg);
    else if (['--limit', '--user', '--endpoint', '--code', '--cursor'].includes(arg)) {
      const value = rest[++i];
      if (value === undefined) return { error: `${arg} needs a value` };
      options.set(arg, value);
    } else if (arg.startsWith('--')) return { error: `unknown option ${arg}` };
    else positional.push(arg);
  }
  if (action === 'list') {
    if (positional.length > 0 || flags.size > 0) return { error: `list takes no ${[...flags, ...positional][0]}` };
    const limit = Number(options.get('--limit') ?? 50);
    if (!Number.isInteger(limit) || limit < 1 || limit > 200) return { error: '--limit is a whole number from 1 to 200' };
    return { action, dlq, limit, filter: { userId: options.get('--user'), endpointId: options.get('--endpoint'), code: options.get('--code') }, cursor: options.get('--cursor') };
  }
  if (['--limit', '--user', '--code', '--cursor'].some((o) => options.has(o))) return { error: 'redrive takes --all, --endpoint, letters and --force' };
  const endpoint = options.get('--endpoint');
  const chosen = [flags.has('--all'), endpoint !== undefined, positional.length > 0].filter(Boolean).length;
  if (chosen !== 1) return { error: 'redrive takes exactly one of --all, --endpoint ID and <partition>:<offset>…' };
  const force = flags.has('--force');
  if (flags.has('--all')) return { action, dlq, selection: { all: true }, force };
  if (endpoint !== undefined) return { action, dlq, selection: { endpointId: endpoint }, force };
  const letters = positional.map(parseLetterRef);
  const bad = positional.find((_, i) => letters[i] === undefined);
  if (bad !== undefined) return { error: `${bad} is not <partition>:<offset>` };
  return { action, dlq, selection: { letters: letters.filter((l) => l !== undefined) }, force };
}

/** One line of `dlq list`. */
export function letterLine(letter: Record<string, unknown>): string {
  const delivery = letter.delivery as { webhook?: { endpoint_id?: string } | null; email?: { address?: string } | null } | undefined;
  return [
    `${String(letter.partition)}:${String(letter.offset)}`,
    String(letter.timestamp),
    String(letter.error_code ?? '-'),
    `key=${String(letter.key ?? '-')}`,
    ...(delivery?.webhook?.endpoint_id ? [`endpoint=${delivery.webhook.endpoint_id}`] : []),
    ...(delivery?.email?.address ? [`to=${delivery.email.address}`] : []),
    ...(letter.status !== null && letter.status !== undefined ? [`status=${String(letter.status)}`] : []),
    letter.redriven_at ? `redriven=${String(letter.redriven_at)}` : 'not-redriven',
    JSON.stringify(String(letter.error_reason ?? '')),
  ].join('  ');
}

function operator(): string {
  try {
    return `cli:${userInfo().username}`;
  } catch {
    return 'cli';
  }
}

export async function dlqCommand(config: Config, args: string[]): Promise<number> {
  const parsed = parseDlqArgs(args);
  if ('error' in parsed) {
    console.error(`tidings dlq: ${parsed.error}\n${DLQ_USAGE}`);
    return 2;
  }
  const before = parsed.action === 'list' ? decodeLetterCursor(parsed.cursor) : undefined;
  const ends = await resolveEndpoints(config);
  const kafka = createKafka({ brokers: ends.kafkaBrokers, clientId: config.kafkaClientId, log: createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel) });
  const topics = topicNames(config.topicPrefix);
  const existing = new Set(await withAdmin(kafka, (admin) => admin.listTopics()));
  const missing = [topics[DLQ_TOPICS[parsed.dlq]], topics.dlqRedrives].filter((t) => !existing.has(t));
  if (missing.length > 0) {
    console.error(`topic ${missing.join(', ')} does not exist; \`tidings topics\` or \`tidings start\` creates it`);
    return 1;
  }
  const codec = createCodec(ends.schemaRegistryUrl);
  await codec.register(valueSchemas(topics, ['deliveryWebhook', 'deliveryEmail', 'deliveryEmailPriority', 'dlqRedrives']));
  const publisher = await createPublisher(kafka, codec);
  try {
    const store = createDeadLetterStore({ kafka, codec, publisher, topics });
    if (parsed.action === 'list') {
      const { letters, next } = await store.list(parsed.dlq, { limit: parsed.limit, before, filter: parsed.filter });
      for (const letter of letters) console.log(letterLine(letter));
      console.log(`${letters.length} letter(s) of ${topics[DLQ_TOPICS[parsed.dlq]]}${next ? `; more with --cursor ${encodeLetterCursor(next)}` : ''}`);
      return 0;
    }
    const report = await store.redrive(parsed.dlq, parsed.selection, { force: parsed.force, by: operator() });
    for (const r of report.refused) console.log(`refused ${r.partition}:${r.offset}: ${r.reason}`);
    console.log(`redriven ${report.redriven}, skipped ${report.skipped} (redriven before), refused ${report.refused.length}, remaining ${report.remaining}`);
    return 0;
  } finally {
    await publisher.disconnect();
  }
}
