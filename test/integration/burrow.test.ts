/**
 * Issue 11's proof, Burrow's side: LinkedIn's Burrow (Debian's package,
 * installed when missing) grades four consumer groups on the local broker —
 * healthy, lagging but progressing, stopped while records keep arriving,
 * stalled on one partition — and the test holds what Burrow answers. Then a
 * Tidings on the same prefix, whose lag monitor (src/health/lag-monitor.ts)
 * samples the groups every second over a window as long as Burrow's, must
 * grade each group and each partition Burrow reports as Burrow does, on
 * /health/kafka/detailed and /health/kafka.
 * Windows are short (test/integration/burrow.ts, FAST_BURROW): the run takes
 * about as long as Burrow needs to see a stopped consumer as stopped.
 */
import { describe, it, expect, beforeAll, afterAll, inject } from 'vitest';
import type { Kafka } from 'kafkajs';
import { isolatedSettings, startWith, waitFor, type Harness } from './harness.ts';
import { startBurrow, FAST_BURROW, type Burrow, type BurrowGroupStatus } from './burrow.ts';
import { SCENARIOS, createScenarioTopic, scenarioKafka, startFeed, startScenario, type Feed, type Scenario, type ScenarioName } from './lag-scenarios.ts';

const PARTITIONS = 2;
const STALLED_PARTITION = 1;
/** one record per partition every FEED_MS: 20 records/s on each */
const FEED_MS = 50;
/** every group commits every COMMIT_MS: more than offset-refresh (1 s) plus min-distance, so each commit is its own entry in Burrow's window */
const COMMIT_MS = 2_000;
/** the lagging group spends this long on each record: 2 records/s per partition against 20 produced (WARN needs the feed to outrun it by more than offset-refresh allows the log end to lag behind) */
const LAGGING_MS_PER_RECORD = 500;
/** the lag monitor samples as often as Burrow fetches log-end offsets, and keeps as many samples as Burrow keeps commits */
const MONITOR_INTERVAL_MS = FAST_BURROW.offsetRefreshS * 1_000;
/** consecutive rounds of the monitor that must agree with Burrow */
const AGREEING_ROUNDS = 3;
/** long enough for a full window (intervals × COMMIT_MS) and, for the stopped group, as long again */
const SETTLE_MS = 45_000;

describe('Burrow, and Tidings\' lag monitor beside it, grade the lag scenarios', () => {
  let prefix: string;
  let topic: string;
  let kafka: Kafka;
  let burrow: Burrow;
  let feed: Feed;
  let tidings: Harness;
  const scenarios = new Map<ScenarioName, Scenario>();

  beforeAll(async () => {
    const brokers = inject('endpoints').kafkaBrokers;
    // A Tidings with the API only: its lag monitor watches every group named `<prefix>tidings.…`, the scenarios' among them.
    const settings = await isolatedSettings({ TIDINGS_ROLES: 'api', TIDINGS_LAG_INTERVAL_MS: String(MONITOR_INTERVAL_MS), TIDINGS_LAG_WINDOW: String(FAST_BURROW.intervals) });
    prefix = settings.env.TIDINGS_TOPIC_PREFIX!;
    topic = `${prefix}burrow.lag`;
    kafka = scenarioKafka(brokers);
    await createScenarioTopic(kafka, topic, PARTITIONS);
    [burrow, tidings] = await Promise.all([
      startBurrow({ ...FAST_BURROW, brokers, groupWhitelist: `^${prefix.replaceAll('.', '\\.')}tidings\\.burrow-` }),
      startWith(settings),
    ]);
    // Burrow drops commits of topics it has not listed yet.
    await waitFor(async () => ((await burrow.topicOffsets(topic))?.length === PARTITIONS ? true : undefined), `Burrow to list ${topic}`);
    feed = await startFeed(kafka, topic, PARTITIONS, FEED_MS);
    for (const name of SCENARIOS) {
      scenarios.set(name, await startScenario(kafka, name, {
        prefix, topic, commitEveryMs: COMMIT_MS, msPerRecord: LAGGING_MS_PER_RECORD, stalledPartition: STALLED_PARTITION,
      }));
    }
  }, 120_000);

  afterAll(async () => {
    await Promise.all([...scenarios.values()].map((s) => s.stop()));
    await feed?.stop();
    await tidings?.stop();
    await burrow?.stop();
  });

  const scenario = (name: ScenarioName) => scenarios.get(name)!;

  /** Burrow's evaluation of the scenario's group with every partition (`/lag`), once its window is full and `accept` holds. */
  async function burrowSays(name: ScenarioName, accept: (s: BurrowGroupStatus) => boolean): Promise<BurrowGroupStatus> {
    let last: BurrowGroupStatus | undefined;
    try {
      return await waitFor(async () => {
        last = await burrow.lag(scenario(name).group);
        return last && last.complete === 1 && accept(last) ? last : undefined;
      }, `Burrow's grading of ${name}`, SETTLE_MS);
    } catch (err) {
      throw new Error(`${(err as Error).message}; Burrow's last answer: ${JSON.stringify(last)}\n${burrow.log()}`);
    }
  }

  const partitionStatuses = (s: BurrowGroupStatus) => Object.fromEntries(s.partitions.map((p) => [p.partition, p.status]));

  interface DetailedGroup { group: string; status: string; error?: string; partitions: { topic: string; partition: number; status: string; complete: number }[] }
  /** /health/kafka/detailed of the Tidings: when it sampled, and the scenario's group as its lag monitor grades it */
  async function monitorSays(name: ScenarioName): Promise<{ sampledAt: string | null; group: DetailedGroup | undefined }> {
    const response = await fetch(`${tidings.tidings.url}/health/kafka/detailed`);
    const body = await response.json() as { sampled_at: string | null; groups: DetailedGroup[] };
    return { sampledAt: body.sampled_at, group: body.groups.find((g) => g.group === scenario(name).group) };
  }
  const monitorWindowFull = (g: DetailedGroup | undefined): g is DetailedGroup => g !== undefined && g.partitions.length === PARTITIONS && g.partitions.every((p) => p.complete === 1);

  /** Burrow's grading of the four groups once settled; the stopped group leaves once Burrow and the monitor each hold a full window of its commits. */
  let settled: Promise<Record<ScenarioName, BurrowGroupStatus>> | undefined;
  const settle = () => settled ??= (async () => {
    const [healthy, lagging, stopped, stalled] = await Promise.all([
      burrowSays('healthy', (s) => s.status === 'OK'),
      burrowSays('lagging', (s) => s.status === 'WARN'),
      (async () => {
        await burrowSays('stopped', (s) => s.status === 'OK');
        await waitFor(async () => (monitorWindowFull((await monitorSays('stopped')).group) ? true : undefined), 'a full window of the stopped group in the lag monitor');
        await scenario('stopped').halt();
        return burrowSays('stopped', (s) => s.status !== 'OK');
      })(),
      burrowSays('stalled', (s) => s.status !== 'OK'),
    ]);
    return { healthy, lagging, stopped, stalled };
  })();

  it('grades healthy OK, lagging WARN, stopped ERR (STOP), stalled ERR (STALL on one partition)', async () => {
    const { healthy, lagging, stopped, stalled } = await settle();

    expect(healthy.status).toBe('OK');
    expect(partitionStatuses(healthy)).toEqual({ 0: 'OK', 1: 'OK' });

    expect(lagging.status).toBe('WARN');
    expect(partitionStatuses(lagging)).toEqual({ 0: 'WARN', 1: 'WARN' });
    expect(lagging.totallag).toBeGreaterThan(0);
    for (const p of lagging.partitions) expect(p.end!.offset).toBeGreaterThan(p.start!.offset);

    expect(stopped.status).toBe('ERR');
    expect(partitionStatuses(stopped)).toEqual({ 0: 'STOP', 1: 'STOP' });
    expect(stopped.totallag).toBeGreaterThan(0);

    expect(stalled.status).toBe('ERR');
    expect(partitionStatuses(stalled)).toEqual({ 0: 'OK', [STALLED_PARTITION]: 'STALL' });
    const stuck = stalled.partitions.find((p) => p.partition === STALLED_PARTITION)!;
    expect(stuck.end!.offset).toBe(stuck.start!.offset);
    expect(stalled.maxlag?.partition).toBe(STALLED_PARTITION);

    // `/status` lists only the partitions that are not OK.
    const brief = await burrow.status(scenario('stalled').group);
    expect(brief?.partitions.map((p) => [p.partition, p.status])).toEqual([[STALLED_PARTITION, 'STALL']]);
  }, 120_000);

  /**
   * The monitor's group status and its status of every partition Burrow
   * reports, next to Burrow's answer of the same moment, for
   * AGREEING_ROUNDS rounds of the monitor in a row.
   */
  async function bothSay(name: ScenarioName): Promise<{ burrow: string; monitor: string }> {
    const group = scenario(name).group;
    let agreeing = 0;
    let lastRound: string | null = null;
    let last = { burrow: '', monitor: '' };
    try {
      return await waitFor(async () => {
        const { sampledAt, group: m } = await monitorSays(name);
        if (!monitorWindowFull(m) || m.error || sampledAt === lastRound) return undefined;
        lastRound = sampledAt;
        const b = (await burrow.lag(group))!;
        const grading = (status: string, partitions: { topic: string; partition: number; status: string }[]) =>
          `${status} ${b.partitions.map((bp) => `${bp.partition}:${partitions.find((p) => p.topic === bp.topic && p.partition === bp.partition)?.status ?? 'missing'}`).join(' ')}`;
        last = { burrow: grading(b.status, b.partitions), monitor: grading(m.status, m.partitions) };
        agreeing = last.burrow === last.monitor && b.complete === 1 ? agreeing + 1 : 0;
        return agreeing >= AGREEING_ROUNDS ? last : undefined;
      }, `the lag monitor to grade ${name} as Burrow does`, SETTLE_MS);
    } catch (err) {
      throw new Error(`${(err as Error).message}; last: Burrow ${last.burrow}, monitor ${last.monitor}: ${JSON.stringify(await monitorSays(name))}`);
    }
  }

  it('Tidings\' /health/kafka grades each group and partition as Burrow does', async () => {
    await settle();
    const both = await Promise.all(SCENARIOS.map(async (name) => [name, await bothSay(name)] as const));
    for (const [, { burrow: b, monitor: m }] of both) expect(m).toBe(b);
    expect(Object.fromEntries(both.map(([name, g]) => [name, g.monitor]))).toEqual({
      healthy: 'OK 0:OK 1:OK',
      lagging: 'WARN 0:WARN 1:WARN',
      stopped: 'ERR 0:STOP 1:STOP',
      stalled: `ERR 0:OK ${STALLED_PARTITION}:STALL`,
    });

    // /health/kafka: 503, the stopped and stalled groups in error, and each group with Burrow's group status of the moment.
    const [response, burrowNow] = await Promise.all([
      fetch(`${tidings.tidings.url}/health/kafka`),
      Promise.all(SCENARIOS.map(async (name) => [name, (await burrow.status(scenario(name).group))?.status] as const)),
    ]);
    const health = await response.json() as { healthy: boolean; error?: string; groups: Record<string, { status: string }> };
    expect(response.status).toBe(503);
    expect(health.healthy).toBe(false);
    expect(health.error).toContain(scenario('stopped').group);
    expect(health.error).toContain(scenario('stalled').group);
    expect(Object.fromEntries(SCENARIOS.map((name) => [name, health.groups[scenario(name).group]?.status]))).toEqual(Object.fromEntries(burrowNow));
    expect(Object.fromEntries(burrowNow)).toEqual({ healthy: 'OK', lagging: 'WARN', stopped: 'ERR', stalled: 'ERR' });
  }, 120_000);
});
