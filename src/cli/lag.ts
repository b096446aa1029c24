/**
 * `tidings lag [--rounds N] [--interval MS]`: samples the consumer groups of
 * this deployment (TIDINGS_TOPIC_PREFIX) N times, MS apart (1 round by
 * default), and prints the table of `kafka-consumer-groups --describe` with a
 * STATUS column graded by Burrow's rules over those rounds, then one line per
 * group. A status marked `*` was graded on a window that is not full yet (it
 * takes N ≥ 2 rounds to grade STOP, STALL and WARN).
 */
import { tiersOf, type Config } from '../config.ts';
import { createLogger } from '../logger.ts';
import { resolveEndpoints } from './services.ts';
import { createKafka } from '../kafka/client.ts';
import { createLagMonitor, type LagSnapshot } from '../health/lag-monitor.ts';

export const LAG_USAGE = 'usage: tidings lag [--rounds N] [--interval MS]';

export function parseLagArgs(args: readonly string[]): { rounds: number; intervalMs: number } | { error: string } {
  const options = new Map<string, string>();
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    if (arg !== '--rounds' && arg !== '--interval') return { error: `unknown argument ${arg}` };
    const value = args[++i];
    if (value === undefined) return { error: `${arg} needs a value` };
    options.set(arg, value);
  }
  const rounds = Number(options.get('--rounds') ?? 1);
  const intervalMs = Number(options.get('--interval') ?? 1_000);
  if (!Number.isInteger(rounds) || rounds < 1 || rounds > 1_000) return { error: '--rounds is a whole number from 1 to 1000' };
  if (!Number.isInteger(intervalMs) || intervalMs < 10 || intervalMs > 3_600_000) return { error: '--interval is a whole number of ms from 10 to 3600000' };
  return { rounds, intervalMs };
}

/** Columns padded to their widest cell, two spaces apart. */
function columns(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  ')).join('\n');
}

/** The partition table and the group lines of a snapshot. */
export function lagTable(snapshot: LagSnapshot): string {
  const rows: string[][] = [['GROUP', 'TOPIC', 'PARTITION', 'CURRENT-OFFSET', 'LOG-END-OFFSET', 'LAG', 'CONSUMER-ID', 'HOST', 'CLIENT-ID', 'STATUS']];
  const groups: string[][] = [['GROUP', 'STATE', 'MEMBERS', 'STATUS', 'TOTAL-LAG', 'MAX-LAG']];
  for (const g of snapshot.groups) {
    for (const p of g.partitions) {
      const owner = p.owners[0];
      rows.push([g.group, p.topic, String(p.partition), p.committed ?? '-', p.end, p.lag ?? '-', owner?.memberId ?? '-', owner?.host ?? '-', owner?.clientId ?? '-', `${p.status}${p.complete < 1 ? '*' : ''}`]);
    }
    const max = g.maxLag ? `${g.maxLag.lag} (${g.maxLag.topic}:${g.maxLag.partition})` : '-';
    groups.push([g.group, g.state, String(g.members), g.status, g.totalLag, `${max}${g.error ? `  error: ${g.error}` : ''}`]);
  }
  const failed = snapshot.error ? `\nsampling failed: ${snapshot.error}` : '';
  return `${columns(rows)}\n\n${columns(groups)}${failed}`;
}

export async function lagCommand(config: Config, args: string[]): Promise<number> {
  const parsed = parseLagArgs(args);
  if ('error' in parsed) {
    console.error(`tidings lag: ${parsed.error}\n${LAG_USAGE}`);
    return 2;
  }
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const kafka = createKafka({ brokers: (await resolveEndpoints(config)).kafkaBrokers, clientId: config.kafkaClientId, log });
  // The window is the rounds taken (2 at least: one sample says nothing of change).
  const monitor = createLagMonitor({ kafka, prefix: config.topicPrefix, tiers: tiersOf(config), intervalMs: parsed.intervalMs, window: Math.max(2, parsed.rounds), log });
  try {
    for (let round = 0; round < parsed.rounds; round++) {
      if (round > 0) await new Promise((resolve) => setTimeout(resolve, parsed.intervalMs));
      await monitor.sample();
    }
    const snapshot = monitor.snapshot();
    console.log(lagTable(snapshot));
    if (snapshot.groups.some((g) => g.partitions.some((p) => p.complete < 1))) console.log(`\n* graded on ${parsed.rounds} of ${Math.max(2, parsed.rounds)} samples: --rounds N --interval MS grades STOP, STALL and WARN over N rounds`);
    return snapshot.error ? 1 : 0;
  } finally {
    await monitor.stop();
  }
}
