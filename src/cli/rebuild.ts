/**
 * `tidings rebuild --yes`: empties the read models and replays the log into
 * them. It refuses while the projector's consumer group has members (a
 * running projector would keep writing from where it was). Then it notes
 * where each input of the projector ends, empties the tables and deletes the
 * projector's stored offsets in one transaction (src/db/rebuild.ts), deletes
 * the (empty) group with the offsets it also commits to Kafka, runs the
 * projector in this process until its stored offsets reach those ends, with
 * a progress line (rate, ETA) on stderr, and prints the rows per table.
 * Records that arrive meanwhile are projected by the next projector to start.
 */
import type { Config } from '../config.ts';
import { createLogger } from '../logger.ts';
import { resolveEndpoints } from './services.ts';
import { createKafka, partitionOffsets, topicNames, withAdmin } from '../kafka/client.ts';
import { lastDataPositions } from '../kafka/read-range.ts';
import { groupId, sourcesOf } from '../topology.ts';
import { createPool } from '../db/pool.ts';
import { migrate } from '../db/migrate.ts';
import { readModelCounts, resetReadModels } from '../db/rebuild.ts';
import { storedOffsets } from '../db/consumer-offsets.ts';
import { startTidings } from '../tidings.ts';

export const REBUILD_USAGE = 'usage: tidings rebuild --yes   (stop every process with the projector role first)';

/** ms between two progress reports */
const REPORT_EVERY = 500;
const CHECK_EVERY = 50; // ms between two reads of the projector's stored offsets
/** ms the rebuild's projector's fetches wait for records at most */
const REBUILD_FETCH_MAX_WAIT = 50;

/** One progress line: share, offsets replayed (records and transaction markers), rate and time left. */
export function progressLine(done: number, total: number, elapsedMs: number): string {
  const rate = elapsedMs > 0 ? (done / elapsedMs) * 1_000 : 0;
  const left = done >= total ? 0 : rate > 0 ? (total - done) / rate : Infinity;
  const share = total > 0 ? Math.min(100, Math.floor((done / total) * 100)) : 100;
  const eta = Number.isFinite(left) ? `${Math.ceil(left)} s` : '?';
  return `rebuild ${String(share).padStart(3)}%  ${done.toLocaleString('en')}/${total.toLocaleString('en')} offsets  ${Math.round(rate).toLocaleString('en')}/s  ETA ${eta}`;
}

export async function rebuildCommand(config: Config, args: string[]): Promise<number> {
  if (args.length !== 1 || args[0] !== '--yes') {
    console.error(`tidings rebuild: empties every read model and replays the log into it; say --yes\n${REBUILD_USAGE}`);
    return 2;
  }
  const ends = await resolveEndpoints(config);
  const log = createLogger(config.logLevel === 'info' ? 'warn' : config.logLevel);
  const kafka = createKafka({ brokers: ends.kafkaBrokers, clientId: `${config.kafkaClientId}-rebuild`, log });
  const topics = topicNames(config.topicPrefix);
  const group = groupId('projector', config.topicPrefix);

  const members = await withAdmin(kafka, async (admin) => (await admin.describeGroups([group])).groups[0]?.members.length ?? 0);
  if (members > 0) {
    console.error(`tidings rebuild: the projector's group ${group} has ${members} member(s); stop every process with the projector role first`);
    return 1;
  }
  const existing = new Set(await withAdmin(kafka, (admin) => admin.listTopics()));
  const inputs = sourcesOf('projector', topics).map((s) => s.topic);
  const missing = inputs.filter((t) => !existing.has(t));
  if (missing.length > 0) {
    console.error(`tidings rebuild: topic ${missing.join(', ')} does not exist; \`tidings topics\` or \`tidings start\` creates it`);
    return 1;
  }
  // Where each input ends: the rebuild is done once the projector has stored offsets this far. Read
  // while the tables are emptied and the projector starts (any moment after the check above will do:
  // what comes later is projected too), each topic's tail by a consumer of its own, side by side.
  const targets = new Map<string, { low: bigint; target: bigint }>();
  let total = 0;
  const ending = Promise.all(inputs.map(async (topic) => {
    const layout = await partitionOffsets(kafka, topic);
    for (const [partition, target] of await lastDataPositions(kafka, topic, layout)) {
      const low = BigInt(layout.find((p) => p.partition === partition)!.low);
      targets.set(`${topic}:${partition}`, { low, target });
      total += Number(target - low);
    }
  }));
  // Awaited below; a failure meanwhile must not be unhandled.
  ending.catch(() => undefined);

  await migrate(ends.databaseUrl, log);
  const pool = createPool(ends.databaseUrl, log, 2);
  let failed: Error | undefined;
  try {
    await resetReadModels(pool, group);
    // Postgres holds the projector's offsets; its group also commits them to Kafka (for lag tools), and a
    // partition without a stored offset would start from there. The empty group is deleted with those
    // offsets (one request; kafkajs' resetOffsets joins the group, seconds per topic), so it starts from the beginning.
    await withAdmin(kafka, (admin) => admin.deleteGroups([group])).catch((err: { groups?: { errorCode?: number; error?: { type?: string } }[] }) => {
      // A group that never committed to Kafka does not exist: nothing to delete.
      if (!err.groups?.every((g) => g.error?.type === 'GROUP_ID_NOT_FOUND')) throw err;
    });
    const started = performance.now();
    // A short fetch wait: once the projector has caught up, stopping it waits for the fetch under way.
    const fetchWait = Math.min(config.kafkaFetchMaxWaitMs, REBUILD_FETCH_MAX_WAIT);
    const tidings = await startTidings({ config: { ...config, roles: ['projector'], httpPort: 0, kafkaFetchMaxWaitMs: fetchWait }, endpoints: ends, log, onFatal: (err) => { failed = err; } });
    const tty = process.stderr.isTTY;
    let reported = started;
    try {
      await ending;
      for (;;) {
        if (failed) throw failed;
        const stored = await storedOffsets(pool, group);
        let done = 0;
        let finished = true;
        for (const [key, { low, target }] of targets) {
          const at = stored.get(key) ?? low;
          if (at < target) finished = false;
          done += Number((at < target ? at : target) - (at > low ? low : at));
        }
        const line = progressLine(Math.min(done, total), total, performance.now() - started);
        if (finished) {
          process.stderr.write(tty ? `\r${line}\n` : `${line}\n`);
          break;
        }
        // Checked often, so the end is seen when it comes; reported every REPORT_EVERY (a line every 10 of them without a terminal).
        const now = performance.now();
        if (now - reported >= (tty ? REPORT_EVERY : REPORT_EVERY * 10)) {
          process.stderr.write(tty ? `\r${line}` : `${line}\n`);
          reported = now;
        }
        await new Promise((resolve) => setTimeout(resolve, CHECK_EVERY));
      }
    } finally {
      await tidings.stop();
    }
    const seconds = (performance.now() - started) / 1_000;
    for (const [table, rows] of Object.entries(await readModelCounts(pool))) console.log(`${table.padEnd(24)} ${rows}`);
    console.log(`replayed ${total} offsets (records and transaction markers) in ${seconds.toFixed(1)} s (${Math.round(total / seconds)}/s)`);
    return 0;
  } finally {
    await pool.end();
  }
}
