/**
 * What the process benchmarks share: isolated settings on the local stack (own
 * topic prefix, groups, transactional ids, database and port), a Tidings child
 * process (`node --import tsx src/main.ts start`) that is always killed when the
 * benchmark ends, and bounded waits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { loadConfig } from '../src/config.ts';
import { stackUp, REPO_ROOT, type Endpoints } from '../src/stack/stack.ts';
import { ensureDatabase } from '../src/db/pool.ts';
import { freePort } from '../src/stack/process.ts';
import { removeRuns } from '../src/stack/remove-runs.ts';
import { topicNames, type TopicNames } from '../src/kafka/topics.ts';

export interface ChildSettings {
  id: string;
  prefix: string;
  topics: TopicNames;
  /** http://127.0.0.1:port, fixed for every process started on these settings */
  url: string;
  /** the run's services, databaseUrl pointing at the run's own database */
  endpoints: Endpoints;
  env: Record<string, string>;
  /** deletes the run's topics, subjects and database (removeRuns) */
  remove(): Promise<void>;
}

/** Fresh settings for one benchmark run; `extra` overrides the environment. */
export async function childSettings(extra: Record<string, string> = {}): Promise<ChildSettings> {
  const { endpoints } = await stackUp(loadConfig(process.env));
  const id = `bench${randomBytes(4).toString('hex')}`;
  const databaseUrl = await ensureDatabase(endpoints.databaseUrl, id);
  const port = await freePort();
  const env = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    KAFKA_BROKERS: endpoints.kafkaBrokers.join(','),
    SCHEMA_REGISTRY_URL: endpoints.schemaRegistryUrl,
    DATABASE_URL: databaseUrl,
    SMTP_URL: endpoints.smtpUrl,
    TIDINGS_JWT_SECRET: endpoints.jwtSecret,
    TIDINGS_SECRET_KEY: endpoints.secretKey,
    TIDINGS_TOPIC_PREFIX: `${id}.`,
    TIDINGS_INSTANCE_ID: id,
    TIDINGS_HTTP_HOST: '127.0.0.1',
    TIDINGS_HTTP_PORT: String(port),
    LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? 'warn',
    ...extra,
  };
  return {
    id, prefix: `${id}.`, topics: topicNames(`${id}.`), url: `http://127.0.0.1:${port}`, endpoints: { ...endpoints, databaseUrl }, env,
    remove: async () => { await removeRuns(endpoints, id); },
  };
}

export interface TidingsChild {
  pid: number;
  /** performance.now() at spawn */
  spawnedAt: number;
  /** undefined while running; the exit code, or the signal that ended it */
  readonly exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  exited: Promise<void>;
  /** the last `n` lines the process wrote to stderr and to stdout (pino) */
  lastLines(n?: number): { stderr: string[]; stdout: string[] };
  /** SIGTERM, then SIGKILL after `graceMs`; resolves once the process is gone */
  stop(graceMs?: number): Promise<void>;
  kill(): void;
}

const children = new Set<ChildProcess>();
process.once('exit', () => { for (const c of children) c.kill('SIGKILL'); });
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    for (const c of children) c.kill('SIGKILL');
    process.exit(130);
  });
}

/** BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" profiles the Tidings process. */
function nodeArgs(): string[] {
  return (process.env.BENCH_NODE_ARGS ?? '').split(' ').filter((a) => a.length > 0);
}

export function spawnTidings(settings: ChildSettings): TidingsChild {
  const spawnedAt = performance.now();
  const child = spawn(process.execPath, [...nodeArgs(), '--import', 'tsx', 'src/main.ts', 'start'], { cwd: REPO_ROOT, env: settings.env, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  const stdout = lineBuffer();
  const stderr = lineBuffer();
  child.stdout.on('data', stdout.push);
  // BENCH_LOG=<file> keeps everything the process logs, for a closer look.
  if (process.env.BENCH_LOG) child.stdout.pipe(createWriteStream(process.env.BENCH_LOG));
  child.stderr.on('data', stderr.push);
  let exit: TidingsChild['exit'];
  const exited = new Promise<void>((resolve) => child.once('exit', (code, signal) => {
    exit = { code, signal };
    children.delete(child);
    resolve();
  }));
  const kill = () => { if (!exit) child.kill('SIGKILL'); };
  return {
    pid: child.pid ?? -1,
    spawnedAt,
    get exit() { return exit; },
    exited,
    lastLines: (n = 15) => ({ stderr: stderr.last(n), stdout: stdout.last(n) }),
    kill,
    async stop(graceMs = 15_000) {
      if (exit) return;
      child.kill('SIGTERM');
      const timer = setTimeout(kill, graceMs);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** "exit code 1", "signal SIGKILL" or "running". */
export function describeExit(child: TidingsChild): string {
  if (!child.exit) return 'running';
  return child.exit.signal ? `signal ${child.exit.signal}` : `exit code ${child.exit.code}`;
}

/** The process's last lines for a report: pino lines as "time level where: msg: error", others cut at 400 characters. */
export function lastOutput(child: TidingsChild, n = 12): string {
  const { stderr, stdout } = child.lastLines(n);
  return [`--- tidings stderr, last ${stderr.length} lines:`, ...stderr.map(short), `--- tidings stdout, last ${stdout.length} lines:`, ...stdout.map(readable)].join('\n');
}

const LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

function readable(line: string): string {
  try {
    const entry = JSON.parse(line) as { time?: string; level?: number; processor?: string; namespace?: string; msg?: string; error?: string; err?: { type?: string; message?: string } };
    const error = entry.err ? `${entry.err.type}: ${entry.err.message}` : entry.error;
    return short(`${entry.time} ${LEVELS[entry.level ?? 0] ?? entry.level} ${entry.processor ?? entry.namespace ?? ''}: ${entry.msg}${error && error !== entry.msg ? ` (${error})` : ''}`);
  } catch {
    return short(line);
  }
}

const short = (line: string) => (line.length > 400 ? `${line.slice(0, 400)}…` : line);

/** Polls GET /health/ready until 200; fails early if the process exits, or after `timeoutMs`. */
export async function waitReady(child: TidingsChild, url: string, timeoutMs = 120_000): Promise<number> {
  await waitFor(async () => {
    if (child.exit) throw new Error(`Tidings exited (${describeExit(child)}) before it was ready`);
    const response = await fetch(`${url}/health/ready`, { signal: AbortSignal.timeout(1_000) }).catch(() => undefined);
    return response?.status === 200 ? true : undefined;
  }, 'GET /health/ready to answer 200', timeoutMs, 50);
  return performance.now();
}

/** Polls `probe` until it returns a value other than undefined; throws after `timeoutMs`. */
export async function waitFor<T>(probe: () => Promise<T | undefined> | T | undefined, what: string, timeoutMs: number, intervalMs = 100): Promise<T> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Sleeps until performance.now() reaches `at`. */
export function sleepUntil(at: number): Promise<void> {
  return sleep(Math.max(0, at - performance.now()));
}

/** The q-quantile (0..1) of `values`, nearest rank; NaN when empty. */
export function quantile(values: number[], q: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1))]!;
}

export const ms = (value: number): string => (Number.isNaN(value) ? '-' : `${Math.round(value).toLocaleString('en')} ms`);

function lineBuffer(keep = 100) {
  const lines: string[] = [];
  let partial = '';
  return {
    push: (chunk: Buffer) => {
      const parts = (partial + chunk.toString()).split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts.filter((l) => l.length > 0));
      if (lines.length > keep) lines.splice(0, lines.length - keep);
    },
    last: (n: number) => [...lines, ...(partial ? [partial] : [])].slice(-n),
  };
}
