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
 * listing has no paging and stops at 1,000 subjects, oldest first: a run that
 * cleans up after itself keeps the list below that.
 */
async function removeSubjects(registryUrl: string, prefix: string): Promise<number> {
  const base = registryUrl.replace(/\/+$/, '');
  const listed = await fetch(`${base}/subjects`);
  if (!listed.ok) throw new Error(`listing subjects failed: ${listed.status}`);
  const mine = ((await listed.json()) as string[]).filter((s) => s.startsWith(prefix));
  for (const subject of mine) {
    const at = `${base}/subjects/${encodeURIComponent(subject)}`;
    await (await fetch(at, { method: 'DELETE' })).arrayBuffer();
    await (await fetch(`${at}?permanent=true`, { method: 'DELETE' })).arrayBuffer();
  }
  return mine.length;
}
