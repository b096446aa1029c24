/**
 * Samples the consumer lag of every consumer group of this deployment every
 * interval and grades each partition over its last samples (lag-rules.ts).
 *
 * The groups: each shared processor group of src/topology.ts, and every group
 * the cluster lists whose id starts with `<prefix>tidings.` (each gateway
 * instance's, and any other). Per group and round: its members and their
 * assignments (DescribeGroups), its committed offsets (OffsetFetch, every topic
 * it committed on), and the log-end offsets of those topics and of the topics
 * its members are assigned. A failed round or group is recorded in the
 * snapshot and the next round tries again; the process never stops for it.
 *
 * Lag is the log end less the committed offset, except at the tail of a topic
 * written in transactions: the commit marker after a consumer's last record
 * has an offset of its own, so a consumer that has read everything is one (or,
 * after aborted transactions, more) behind the end forever. When a partition's
 * end and committed offset both stood still since the previous round, the
 * records between them are read once (read_committed, at most 64 offsets) and,
 * when there are none (only markers or aborted records), the lag is 0.
 */
import { connectAdmin, type Kafka } from '../kafka/client.ts';
import { readRanges, type OffsetRange } from '../kafka/read-range.ts';
import type { Logger } from '../logger.ts';
import { TOPICS, tierTopics, topicNames, type TopicKey, type Tiers } from '../kafka/topics.ts';
import { PROCESSORS, groupId, type ProcessorName } from '../topology.ts';
import { evaluateGroup, evaluatePartition, type GroupStatus, type LagSample, type PartitionStatus } from './lag-rules.ts';
import { decodeAssignment } from './member-assignment.ts';

type Admin = ReturnType<Kafka['admin']>;

/** offsets: the longest tail without data records looked for; a longer lag is taken as it is */
const TAIL = 64n;

export interface LagMonitorOptions {
  kafka: Kafka;
  /** TIDINGS_TOPIC_PREFIX */
  prefix: string;
  /** the retry schedules' delays (config tiersOf): a retry tier's lane holds an offset until its head record is due */
  tiers?: Tiers;
  /** ms between two rounds */
  intervalMs: number;
  /** samples kept and graded per partition */
  window: number;
  log: Logger;
  clock?: () => number;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  status: PartitionStatus;
  /** share of the window filled, 0 to 1 */
  complete: number;
  /** null: the group has committed nothing here */
  committed: string | null;
  end: string;
  lag: string | null;
  /** the members assigned this partition */
  owners: { memberId: string; clientId: string; host: string }[];
  window: { at: string; offset: string; end: string; lag: string; members: number }[];
}

export interface GroupLag {
  group: string;
  /** the coordinator's group state: Stable, Empty, Dead (no such group) … */
  state: string;
  members: number;
  status: GroupStatus;
  totalLag: string;
  maxLag: { topic: string; partition: number; lag: string; status: PartitionStatus } | null;
  /** why this group's last sample failed, if it did */
  error?: string;
  partitions: PartitionLag[];
}

export interface LagSnapshot {
  /** ISO time of the last round that completed; null before the first */
  sampledAt: string | null;
  intervalMs: number;
  window: number;
  /** why the last round failed, if it did */
  error?: string;
  groups: GroupLag[];
}

export interface LagMonitor {
  /** samples every interval from now on (the first round at once) */
  start(): void;
  /** one round; resolves when it is done (a round already running is joined) */
  sample(): Promise<void>;
  snapshot(): LagSnapshot;
  stop(): Promise<void>;
}

interface Member { memberId: string; clientId: string; host: string; assignment: Map<string, number[]> }

interface GroupState {
  state: string;
  members: Member[];
  error?: string;
  partitions: Map<string, { topic: string; partition: number; committed: bigint | null; end: bigint; window: LagSample[] }>;
}

/**
 * ms each retry tier's lane may hold an offset by design: twice the tier's
 * delay (its ±20 % jitter, and a Retry-After up to the next tier of a
 * doubling schedule), or the next tier's delay when that is longer.
 */
export function tierWaits(prefix: string, tiers: Tiers): Map<string, number> {
  const names = topicNames(prefix);
  const waits = new Map<string, number>();
  for (const key of Object.keys(TOPICS) as TopicKey[]) {
    if (!('tiered' in TOPICS[key])) continue;
    const delays = [...new Set(tiers[key] ?? [])].sort((a, b) => a - b);
    delays.forEach((ms, i) => waits.set(tierTopics(names, key, { [key]: [ms] })[0]!, Math.max(2 * ms, delays[i + 1] ?? 0)));
  }
  return waits;
}

export function createLagMonitor({ kafka, prefix, tiers = {}, intervalMs, window, log, clock = Date.now }: LagMonitorOptions): LagMonitor {
  const waits = tierWaits(prefix, tiers);
  const groups = new Map<string, GroupState>();
  /** `topic:partition:from:to` → whether committed records lie in that range, once read; kept while a round asks */
  let ahead = new Map<string, boolean>();
  let kept = new Set<string>(); // keys asked for, or read, since the last round
  /** tails to read after this round, per topic */
  let tails = new Map<string, OffsetRange[]>();
  const reading = new Map<string, Promise<void>>(); // topics whose tails are being read
  const shared = (Object.keys(PROCESSORS) as ProcessorName[]).filter((name) => PROCESSORS[name].group === 'shared').map((name) => groupId(name, prefix));
  let admin: Admin | undefined;
  let sampledAt: number | null = null;
  let roundError: string | undefined;
  let running: Promise<void> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  async function connected(): Promise<Admin> {
    if (!admin) {
      admin = await connectAdmin(kafka);
    }
    return admin;
  }

  async function round(): Promise<void> {
    try {
      const client = await connected();
      const listed = (await client.listGroups()).groups.map((g) => g.groupId).filter((id) => id.startsWith(`${prefix}tidings.`));
      const ids = [...new Set([...shared, ...listed])].sort();
      const described = new Map((await client.describeGroups(ids)).groups.map((g) => [g.groupId, g]));
      const ends = new Map<string, Promise<Map<number, bigint>>>();
      const endsOf = (topic: string) => {
        let found = ends.get(topic);
        if (!found) {
          found = client.fetchTopicOffsets(topic).then((ps) => new Map(ps.map((p) => [p.partition, BigInt(p.high)])));
          ends.set(topic, found);
        }
        return found;
      };
      const at = clock();
      await Promise.all(ids.map(async (id) => {
        const state: GroupState = groups.get(id) ?? { state: 'Unknown', members: [], partitions: new Map() };
        groups.set(id, state);
        try {
          const description = described.get(id);
          const members: Member[] = (description?.members ?? []).map((m) => ({ memberId: m.memberId, clientId: m.clientId, host: m.clientHost, assignment: decodeAssignment(m.memberAssignment) }));
          const committed = await client.fetchOffsets({ groupId: id });
          const topics = new Set([...committed.map((t) => t.topic), ...members.flatMap((m) => [...m.assignment.keys()])]);
          const seen = new Set<string>();
          for (const topic of [...topics].sort()) {
            const assigned = members.filter((m) => m.assignment.has(topic)).length;
            for (const [partition, high] of await endsOf(topic)) {
              const raw = committed.find((t) => t.topic === topic)?.partitions.find((p) => p.partition === partition)?.offset;
              const offset = raw === undefined || BigInt(raw) < 0n ? null : BigInt(raw);
              const key = `${topic}:${partition}`;
              seen.add(key);
              const previous = state.partitions.get(key);
              const entry = previous ?? { topic, partition, committed: offset, end: high, window: [] };
              if (offset !== null) {
                const last = entry.window.at(-1);
                const lag = lagOf(topic, partition, offset, high, last);
                const changedAt = last && last.offset === offset ? last.changedAt ?? last.at : at;
                entry.window = [...entry.window, { at, offset, end: high, lag, members: assigned, changedAt }].slice(-window);
              }
              entry.committed = offset;
              entry.end = high;
              state.partitions.set(key, entry);
            }
          }
          for (const key of [...state.partitions.keys()]) if (!seen.has(key)) state.partitions.delete(key);
          state.state = description?.state ?? 'Unknown';
          state.members = members;
          delete state.error;
        } catch (err) {
          state.error = (err as Error).message;
          log.warn({ err, groupId: id }, 'consumer lag sample of a group failed');
        }
      }));
      for (const id of [...groups.keys()]) if (!ids.includes(id)) groups.delete(id);
      readTails();
      sampledAt = at;
      roundError = undefined;
    } catch (err) {
      roundError = (err as Error).message;
      log.warn({ err }, 'consumer lag sample failed');
      const stale = admin;
      admin = undefined;
      await stale?.disconnect().catch(() => undefined);
    }
  }

  /** End less offset; 0 when only transaction markers or aborted records lie between them (read once, after the round). */
  function lagOf(topic: string, partition: number, offset: bigint, high: bigint, last: LagSample | undefined): bigint {
    const lag = high > offset ? high - offset : 0n;
    if (lag === 0n || lag > TAIL || !last || last.end !== high || last.offset !== offset) return lag;
    const key = `${topic}:${partition}:${offset}:${high}`;
    const records = ahead.get(key);
    if (records !== undefined) {
      kept.add(key);
      return records ? lag : 0n;
    }
    // One range per partition a read: another group's waits for the next round.
    const ranges = tails.get(topic) ?? [];
    if (!ranges.some((r) => r.partition === partition)) tails.set(topic, [...ranges, { partition, from: offset, to: high }]);
    return lag;
  }

  /** Reads, in the background, whether committed records lie in the tails found this round; later rounds use what it found. */
  function readTails(): void {
    // What no round asked for any more is forgotten.
    ahead = new Map([...ahead].filter(([key]) => kept.has(key)));
    kept = new Set();
    const found = tails;
    tails = new Map();
    for (const [topic, ranges] of found) {
      if (reading.has(topic) || stopped) continue;
      const withRecords = new Set<number>();
      reading.set(topic, readRanges(kafka, topic, ranges, (record) => { withRecords.add(record.partition); })
        .then(() => {
          for (const r of ranges) {
            const key = `${topic}:${r.partition}:${r.from}:${r.to}`;
            ahead.set(key, withRecords.has(r.partition));
            kept.add(key);
          }
        })
        .catch((err: unknown) => log.warn({ err, topic }, 'reading the tail of a topic for its lag failed'))
        .finally(() => reading.delete(topic)));
    }
  }

  function sample(): Promise<void> {
    running ??= round().finally(() => { running = undefined; });
    return running;
  }

  function schedule(): void {
    if (stopped) return;
    timer = setTimeout(() => { void sample().then(schedule); }, intervalMs);
    timer.unref();
  }

  return {
    start() {
      void sample().then(schedule);
    },
    sample,
    snapshot() {
      return {
        sampledAt: sampledAt === null ? null : new Date(sampledAt).toISOString(),
        intervalMs,
        window,
        ...(roundError ? { error: roundError } : {}),
        groups: [...groups].map(([id, state]) => groupLag(id, state, window, waits)),
      };
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
      await Promise.all(reading.values());
      await admin?.disconnect();
      admin = undefined;
    },
  };
}

function groupLag(id: string, state: GroupState, size: number, waits: ReadonlyMap<string, number>): GroupLag {
  const partitions: PartitionLag[] = [...state.partitions.values()].map((p) => {
    const { status, complete } = evaluatePartition(p.window, size, waits.get(p.topic) ?? 0);
    const current = p.window.at(-1);
    return {
      topic: p.topic,
      partition: p.partition,
      status,
      complete,
      committed: p.committed === null ? null : String(p.committed),
      end: String(p.end),
      lag: p.committed === null || !current ? null : String(current.lag),
      owners: state.members.filter((m) => m.assignment.get(p.topic)?.includes(p.partition)).map(({ memberId, clientId, host }) => ({ memberId, clientId, host })),
      window: p.window.map((s) => ({ at: new Date(s.at).toISOString(), offset: String(s.offset), end: String(s.end), lag: String(s.lag), members: s.members })),
    };
  });
  const lagged = partitions.filter((p) => p.lag !== null);
  const max = lagged.reduce<PartitionLag | undefined>((a, p) => (!a || BigInt(p.lag!) > BigInt(a.lag!) ? p : a), undefined);
  return {
    group: id,
    state: state.state,
    members: state.members.length,
    status: evaluateGroup(partitions.map((p) => p.status)),
    totalLag: String(lagged.reduce((sum, p) => sum + BigInt(p.lag!), 0n)),
    maxLag: max ? { topic: max.topic, partition: max.partition, lag: max.lag!, status: max.status } : null,
    ...(state.error ? { error: state.error } : {}),
    partitions,
  };
}
