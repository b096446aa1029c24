/**
 * Issue 11's proof, Burrow's side: LinkedIn's Burrow (Debian's package,
 * installed when missing) grades four consumer groups on the local broker —
 * healthy, lagging but progressing, stopped while records keep arriving,
 * stalled on one partition — and the test holds what Burrow answers.
 * Windows are short (test/integration/burrow.ts, FAST_BURROW): the run takes
 * about as long as Burrow needs to see a stopped consumer as stopped.
 */
import { describe, it, expect, beforeAll, afterAll, inject } from 'vitest';
import { randomBytes } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import { waitFor } from './harness.ts';
import { startBurrow, FAST_BURROW, type Burrow, type BurrowGroupStatus } from './burrow.ts';
import { SCENARIOS, createScenarioTopic, scenarioKafka, startFeed, startScenario, type Feed, type Scenario, type ScenarioName } from './lag-scenarios.ts';

const PARTITIONS = 2;
const STALLED_PARTITION = 1;
/** one record per partition every FEED_MS: 20 records/s on each */
const FEED_MS = 50;
/** every group commits every COMMIT_MS: more than offset-refresh (1 s) plus min-distance, so each commit is its own entry in Burrow's window */
const COMMIT_MS = 2_000;
/** the lagging group spends this long on each record: 4 records/s per partition against 20 produced */
const LAGGING_MS_PER_RECORD = 250;
/** long enough for a full window (intervals × COMMIT_MS) and, for the stopped group, as long again */
const SETTLE_MS = 45_000;

describe('Burrow grades the lag scenarios', () => {
  const prefix = `${inject('runPrefix')}${randomBytes(3).toString('hex')}.`;
  const topic = `${prefix}burrow.lag`;
  let kafka: Kafka;
  let burrow: Burrow;
  let feed: Feed;
  const scenarios = new Map<ScenarioName, Scenario>();

  beforeAll(async () => {
    const brokers = inject('endpoints').kafkaBrokers;
    kafka = scenarioKafka(brokers);
    await createScenarioTopic(kafka, topic, PARTITIONS);
    burrow = await startBurrow({ ...FAST_BURROW, brokers, groupWhitelist: `^${prefix.replaceAll('.', '\\.')}tidings\\.burrow-` });
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

  it('grades healthy OK, lagging WARN, stopped ERR (STOP), stalled ERR (STALL on one partition)', async () => {
    const graded = await Promise.all([
      burrowSays('healthy', (s) => s.status === 'OK'),
      burrowSays('lagging', (s) => s.status === 'WARN'),
      (async () => {
        // Stopped: commits until Burrow holds a full window of them, then leaves while the feed goes on.
        await burrowSays('stopped', (s) => s.status === 'OK');
        await scenario('stopped').halt();
        return burrowSays('stopped', (s) => s.status !== 'OK');
      })(),
      burrowSays('stalled', (s) => s.status !== 'OK'),
    ]);
    const [healthy, lagging, stopped, stalled] = graded as [BurrowGroupStatus, BurrowGroupStatus, BurrowGroupStatus, BurrowGroupStatus];

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
});
