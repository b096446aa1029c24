/**
 * LinkedIn's Burrow (Debian's `burrow` package, 1.2.1) beside the local stack,
 * for checking Tidings' lag grading against Burrow's own. Installs the package
 * when /usr/bin/Burrow is missing (as src/stack/postgres.ts installs
 * PostgreSQL), runs the ZooKeeper Burrow needs from the Kafka jars the stack
 * downloaded, and Burrow with short windows, everything on 127.0.0.1.
 * See ../shared/recipes/burrow.md for what was found running it here.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from 'node:net';
import { Kafka, logLevel } from 'kafkajs';
import { loadConfig, processEnvironment } from '../../src/config.ts';
import { stackPaths } from '../../src/stack/stack.ts';
import { KAFKA_VERSION } from '../../src/stack/kafka.ts';
import { freePort, tail, waitUntil } from '../../src/stack/process.ts';
import { ensureDebianPackage } from './apt.ts';

export const BURROW_BIN = '/usr/bin/Burrow';
/** The cluster's name in burrow.toml and in Burrow's URLs. */
export const BURROW_CLUSTER = 'local';

export interface BurrowSettings {
  /** Kafka brokers, host:port on loopback */
  brokers: string[];
  /** only groups matching this regular expression are stored and evaluated */
  groupWhitelist: string;
  /** commits kept per partition: Burrow's window (storage `intervals`) */
  intervals: number;
  /** seconds between two stored commits of a partition (storage `min-distance`); closer commits overwrite the last one */
  minDistanceS: number;
  /** seconds between Burrow's fetches of the log-end offsets (cluster `offset-refresh`); at least 1 */
  offsetRefreshS: number;
  /** seconds between topic list refreshes (cluster `topic-refresh`) */
  topicRefreshS: number;
  /** seconds an evaluation is cached (evaluator `expire-cache`) */
  expireCacheS: number;
}

/** Short windows, so a scenario takes seconds: the values burrow.test.ts runs with. */
export const FAST_BURROW: Omit<BurrowSettings, 'brokers' | 'groupWhitelist'> = {
  intervals: 4,
  minDistanceS: 1,
  offsetRefreshS: 1,
  topicRefreshS: 5,
  expireCacheS: 1,
};

export type BurrowPartitionStatus = 'OK' | 'WARN' | 'STOP' | 'STALL' | 'REWIND';

export interface BurrowOffset {
  offset: number;
  timestamp: number;
  lag: number;
}

export interface BurrowPartition {
  topic: string;
  partition: number;
  owner: string;
  status: BurrowPartitionStatus;
  start: BurrowOffset | null;
  end: BurrowOffset | null;
  current_lag: number;
  complete: number;
}

/** What `GET /v3/kafka/<cluster>/consumer/<group>/status` (or `/lag`) answers, its `status` member. */
export interface BurrowGroupStatus {
  cluster: string;
  group: string;
  /** OK, WARN or ERR for a group Burrow knows (NOTFOUND otherwise) */
  status: 'NOTFOUND' | 'OK' | 'WARN' | 'ERR';
  complete: number;
  /** `/status`: the partitions that are not OK; `/lag`: every partition */
  partitions: BurrowPartition[];
  partition_count: number;
  maxlag: BurrowPartition | null;
  totallag: number;
}

export interface Burrow {
  /** Burrow's HTTP API, http://127.0.0.1:<port> */
  url: string;
  /** the folder holding burrow.toml, its log and ZooKeeper's data */
  dir: string;
  settings: BurrowSettings;
  /** Burrow's evaluation of `group` (`/status`), undefined while Burrow does not know the group */
  status(group: string): Promise<BurrowGroupStatus | undefined>;
  /** the same with every partition (`/lag`) */
  lag(group: string): Promise<BurrowGroupStatus | undefined>;
  /** the log-end offsets Burrow last fetched for `topic`, undefined while it does not know the topic */
  topicOffsets(topic: string): Promise<number[] | undefined>;
  /** the last lines of Burrow's log, for failure messages */
  log(lines?: number): string;
  /** kills Burrow and ZooKeeper and removes the folder */
  stop(): Promise<void>;
}

/** Installs Debian's burrow package when /usr/bin/Burrow is missing. */
export function ensureBurrowInstalled(): Promise<string> {
  return ensureDebianPackage('burrow', BURROW_BIN, 'Burrow');
}

/** The Kafka jars of the local stack (src/stack/kafka.ts), whose classpath carries ZooKeeper 3.8.4. */
export function kafkaLibs(): string {
  const { cacheDir } = stackPaths(loadConfig(process.env));
  const libs = join(cacheDir, `kafka-${KAFKA_VERSION}`, 'libs');
  if (!existsSync(join(libs, '.complete'))) throw new Error(`no Kafka jars at ${libs}: run \`./tidings stack up\` once, it downloads them`);
  return libs;
}

/**
 * Burrow exits ("failed to get partition count") when __consumer_offsets does
 * not exist yet. Looking up a group's coordinator makes the broker create it.
 */
export async function ensureOffsetsTopic(brokers: string[]): Promise<void> {
  const kafka = new Kafka({ clientId: 'burrow-bootstrap', brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const ready = await waitUntil(async () => {
      await admin.fetchOffsets({ groupId: 'burrow-bootstrap' }).catch(() => undefined);
      const metadata = await admin.fetchTopicMetadata({ topics: ['__consumer_offsets'] });
      return metadata.topics[0]?.partitions.every((p) => p.leader >= 0) ?? false;
    }, 30_000, 250);
    if (!ready) throw new Error('__consumer_offsets did not appear within 30 s');
  } finally {
    await admin.disconnect();
  }
}

export function burrowToml(dir: string, zookeeperPort: number, httpPort: number, s: BurrowSettings): string {
  const servers = `[${s.brokers.map((b) => JSON.stringify(b)).join(', ')}]`;
  return [
    '[general]',
    `pidfile=${JSON.stringify(join(dir, 'burrow.pid'))}`,
    '[logging]',
    `filename=${JSON.stringify(join(dir, 'burrow.log'))}`,
    'level="info"',
    '[zookeeper]',
    `servers=["127.0.0.1:${zookeeperPort}"]`,
    'timeout=6',
    'root-path="/burrow"',
    '[client-profile.local]',
    'client-id="burrow"',
    'kafka-version="2.0.0"',
    `[cluster.${BURROW_CLUSTER}]`,
    'class-name="kafka"',
    `servers=${servers}`,
    'client-profile="local"',
    `topic-refresh=${s.topicRefreshS}`,
    `offset-refresh=${s.offsetRefreshS}`,
    `[consumer.${BURROW_CLUSTER}]`,
    'class-name="kafka"',
    `cluster="${BURROW_CLUSTER}"`,
    `servers=${servers}`,
    'client-profile="local"',
    // Only commits made from now on: the scenarios' groups are new.
    'start-latest=true',
    `group-whitelist=${JSON.stringify(s.groupWhitelist)}`,
    '[evaluator.default]',
    'class-name="caching"',
    `expire-cache=${s.expireCacheS}`,
    '[httpserver.default]',
    `address="127.0.0.1:${httpPort}"`,
    '[storage.default]',
    'class-name="inmemory"',
    'workers=4',
    `intervals=${s.intervals}`,
    'expire-group=604800',
    `min-distance=${s.minDistanceS}`,
    `group-whitelist=${JSON.stringify(s.groupWhitelist)}`,
    '',
  ].join('\n');
}

/** True when ZooKeeper answers its `srvr` command (on its default whitelist) as a running server. */
function zookeeperServing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    let answer = '';
    const socket = connect({ port, host: '127.0.0.1' });
    socket.setTimeout(1_000);
    socket.once('connect', () => socket.end('srvr'));
    socket.on('data', (chunk) => { answer += chunk.toString(); });
    socket.once('close', () => resolve(/^Mode: /m.test(answer)));
    socket.once('timeout', () => socket.destroy());
    socket.once('error', () => resolve(false));
  });
}

function spawnLogged(command: string, args: string[], cwd: string, logFile: string): ChildProcess {
  const fd = openSync(logFile, 'a');
  try {
    return spawn(command, args, { cwd, env: processEnvironment(), stdio: ['ignore', fd, fd] });
  } finally {
    closeSync(fd);
  }
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGKILL');
  await exited;
}

/**
 * Starts ZooKeeper and Burrow on free loopback ports; resolves when Burrow's
 * HTTP API answers for the cluster. Burrow starts only after
 * __consumer_offsets exists.
 */
export async function startBurrow(settings: BurrowSettings): Promise<Burrow> {
  for (const b of settings.brokers) {
    if (!/^(127\.\d+\.\d+\.\d+|localhost|\[::1\]):\d+$/.test(b)) throw new Error(`Burrow talks to loopback only, not to ${b}`);
  }
  const bin = await ensureBurrowInstalled();
  const libs = kafkaLibs();
  const dir = mkdtempSync(join(tmpdir(), 'tidings-burrow-'));
  const zookeeperPort = await freePort();
  const httpPort = await freePort();
  const url = `http://127.0.0.1:${httpPort}`;
  const children: ChildProcess[] = [];
  const stop = async () => {
    await Promise.all(children.map(kill));
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    writeFileSync(join(dir, 'zk.properties'), [
      `dataDir=${join(dir, 'zookeeper')}`,
      `clientPort=${zookeeperPort}`,
      'clientPortAddress=127.0.0.1',
      'admin.enableServer=false',
      'tickTime=500',
      '',
    ].join('\n'));
    const zookeeper = spawnLogged('java', ['-Xmx128m', '-cp', `${libs}/*`, 'org.apache.zookeeper.server.quorum.QuorumPeerMain', join(dir, 'zk.properties')], dir, join(dir, 'zookeeper.log'));
    children.push(zookeeper);
    // Listening is not serving: until its database is loaded, ZooKeeper drops sessions and Burrow exits.
    if (!(await waitUntil(async () => zookeeper.exitCode === null && zookeeperServing(zookeeperPort), 30_000, 100))) {
      throw new Error(`ZooKeeper did not listen on 127.0.0.1:${zookeeperPort}:\n${tail(join(dir, 'zookeeper.log'))}`);
    }
    await ensureOffsetsTopic(settings.brokers);
    writeFileSync(join(dir, 'burrow.toml'), burrowToml(dir, zookeeperPort, httpPort, settings));
    const burrow = spawnLogged(bin, ['--config-dir', dir], dir, join(dir, 'stdout.log'));
    children.push(burrow);
    const answering = await waitUntil(async () => {
      if (burrow.exitCode !== null) throw new Error('exited');
      const response = await fetch(`${url}/v3/kafka/${BURROW_CLUSTER}`, { signal: AbortSignal.timeout(1_000) });
      await response.arrayBuffer();
      // The HTTP server starts before the module that reads __consumer_offsets.
      return response.ok && readFileSync(join(dir, 'burrow.log'), 'utf8').includes('"msg":"starting consumers"');
    }, 30_000, 100);
    if (!answering || burrow.exitCode !== null) {
      throw new Error(`Burrow did not answer at ${url} (exit ${burrow.exitCode}):\n${tail(join(dir, 'stdout.log'))}\n${tail(join(dir, 'burrow.log'))}`);
    }
  } catch (err) {
    await stop();
    throw err;
  }

  const get = async (group: string, what: 'status' | 'lag'): Promise<BurrowGroupStatus | undefined> => {
    const response = await fetch(`${url}/v3/kafka/${BURROW_CLUSTER}/consumer/${encodeURIComponent(group)}/${what}`, { signal: AbortSignal.timeout(5_000) });
    const body = await response.json() as { error: boolean; message: string; status?: BurrowGroupStatus };
    if (response.status === 404) return undefined;
    if (!response.ok || body.error || !body.status) throw new Error(`Burrow ${what} of ${group}: ${response.status} ${body.message}`);
    return { ...body.status, partitions: body.status.partitions ?? [] };
  };

  return {
    url,
    dir,
    settings,
    status: (group) => get(group, 'status'),
    lag: (group) => get(group, 'lag'),
    async topicOffsets(topic) {
      const response = await fetch(`${url}/v3/kafka/${BURROW_CLUSTER}/topic/${encodeURIComponent(topic)}`, { signal: AbortSignal.timeout(5_000) });
      const body = await response.json() as { offsets?: number[] };
      return response.ok && Array.isArray(body.offsets) ? body.offsets : undefined;
    },
    log: (lines = 30) => (existsSync(join(dir, 'burrow.log')) ? tail(join(dir, 'burrow.log'), lines) : readFileSync(join(dir, 'stdout.log'), 'utf8')),
    stop,
  };
}
