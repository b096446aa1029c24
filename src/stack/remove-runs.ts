/**
 * Deletes what test and benchmark runs created on a shared stack: every topic,
 * schema-registry subject and database whose name starts with a run's prefix.
 * A broker holding the thousands of partitions that runs leave behind is
 * slower and, with the local stack's heap, eventually runs out of memory.
 */
import { createKafka, withAdmin } from '../kafka/client.ts';
import { createLogger } from '../logger.ts';
import { dropDatabases } from '../db/pool.ts';
import type { Endpoints } from './stack.ts';

/** What was deleted. */
export interface Removed {
  topics: number;
  subjects: number;
  databases: number;
}

/** Deletes the topics, subjects and databases named `<prefix>…`; `prefix` is a lower-case identifier of five characters or more. */
export async function removeRuns(endpoints: Pick<Endpoints, 'kafkaBrokers' | 'databaseUrl' | 'schemaRegistryUrl'>, prefix: string): Promise<Removed> {
  if (!/^[a-z][a-z0-9]{4,}$/.test(prefix)) throw new TypeError(`unsafe run prefix ${prefix}`);
  const kafka = createKafka({ brokers: endpoints.kafkaBrokers, clientId: 'tidings-cleanup', log: createLogger('silent') });
  const topics = await withAdmin(kafka, async (admin) => {
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
    for (let i = 0; i < mine.length; i += 200) await admin.deleteTopics({ topics: mine.slice(i, i + 200), timeout: 60_000 });
    return mine.length;
  });
  const subjects = await removeSubjects(endpoints.schemaRegistryUrl, prefix);
  const databases = await dropDatabases(endpoints.databaseUrl, prefix);
  return { topics, subjects, databases };
}

/**
 * Soft-deletes then permanently deletes each subject of the prefix (Confluent's
 * two steps, which the registry's ccompat API follows). Apicurio's ccompat
 * listing has no paging and stops at 1,000 subjects, so with Apicurio the
 * subjects are listed page by page through its own API (artifacts of the
 * default group are the ccompat subjects).
 */
async function removeSubjects(registryUrl: string, prefix: string): Promise<number> {
  const base = registryUrl.replace(/\/+$/, '');
  const mine = (await apicurioArtifacts(base) ?? await ccompatSubjects(base)).filter((s) => s.startsWith(prefix));
  for (const subject of mine) {
    const at = `${base}/subjects/${encodeURIComponent(subject)}`;
    await (await fetch(at, { method: 'DELETE' })).arrayBuffer();
    await (await fetch(`${at}?permanent=true`, { method: 'DELETE' })).arrayBuffer();
  }
  return mine.length;
}

async function ccompatSubjects(base: string): Promise<string[]> {
  const listed = await fetch(`${base}/subjects`);
  if (!listed.ok) throw new Error(`listing subjects failed: ${listed.status}`);
  return (await listed.json()) as string[];
}

/** Every artifact id of Apicurio's default group, or undefined when `base` is not Apicurio's ccompat API. */
async function apicurioArtifacts(base: string): Promise<string[] | undefined> {
  const native = /\/apis\/ccompat\/v\d+$/.test(base) ? base.replace(/\/apis\/ccompat\/v\d+$/, '/apis/registry/v3') : undefined;
  if (!native) return undefined;
  const ids: string[] = [];
  const PAGE = 500;
  for (let offset = 0; ; offset += PAGE) {
    const page = await fetch(`${native}/groups/default/artifacts?offset=${offset}&limit=${PAGE}`);
    if (!page.ok) return offset === 0 ? undefined : ids;
    const { artifacts } = (await page.json()) as { artifacts: { artifactId: string }[] };
    ids.push(...artifacts.map((a) => a.artifactId));
    if (artifacts.length < PAGE) return ids;
  }
}
