/**
 * The `kafka` health check and GET /health/kafka/detailed: the brokers, and
 * each consumer group of the deployment graded by the lag monitor. Unhealthy
 * (503) while a group is in error (a partition STOP, STALL or REWIND); a group
 * at WARN is reported but healthy, as Burrow's WARN is not an error.
 */
import type { FastifyInstance } from 'fastify';
import { withAdmin, type Kafka } from '../kafka/client.ts';
import type { GroupLag, LagMonitor, LagSnapshot, PartitionLag } from './lag-monitor.ts';
import { Unhealthy, type Check } from './routes.ts';

export interface KafkaCheckDeps {
  kafka: Kafka;
  lag: LagMonitor;
}

/** A group as /health/kafka shows it: its status, state, members, total and largest lag (and error). */
function groupSummary({ group: _group, partitions: _partitions, totalLag, maxLag, ...rest }: GroupLag) {
  return { ...rest, total_lag: totalLag, max_lag: maxLag };
}

/** A partition as /health/kafka/detailed shows it, with its window of samples. */
function partitionDetail({ committed, end, owners, ...rest }: PartitionLag) {
  return { ...rest, committed_offset: committed, log_end_offset: end, owners: owners.map((o) => ({ member_id: o.memberId, client_id: o.clientId, host: o.host })) };
}

/** The groups in error, and the words for it. */
function verdict(snapshot: LagSnapshot): { failing: string[]; message: string } {
  const failing = snapshot.groups.filter((g) => g.status === 'ERR').map((g) => g.group);
  const warned = snapshot.groups.filter((g) => g.status === 'WARN').map((g) => g.group);
  if (failing.length > 0) return { failing, message: `consumer groups in error: ${failing.join(', ')}` };
  if (warned.length > 0) return { failing, message: `consumer groups falling behind: ${warned.join(', ')}` };
  return { failing, message: snapshot.sampledAt ? 'All consumers healthy' : 'consumer lag not sampled yet' };
}

function lagSummary(snapshot: LagSnapshot) {
  return {
    sampled_at: snapshot.sampledAt,
    interval_ms: snapshot.intervalMs,
    window: snapshot.window,
    ...(snapshot.error ? { lag_error: snapshot.error } : {}),
  };
}

export function kafkaCheck({ kafka, lag }: KafkaCheckDeps): Check {
  return {
    name: 'kafka',
    async run() {
      const brokers = await withAdmin(kafka, async (admin) => (await admin.describeCluster()).brokers.length);
      const snapshot = lag.snapshot();
      const { failing, message } = verdict(snapshot);
      const details = { brokers, message, ...lagSummary(snapshot), groups: Object.fromEntries(snapshot.groups.map((g) => [g.group, groupSummary(g)])) };
      if (failing.length > 0) throw new Unhealthy(message, details);
      return details;
    },
  };
}

/** GET /health/kafka/detailed: every group's partitions with their windows of samples; 503 while a group is in error. */
export async function kafkaDetailedRoutes(app: FastifyInstance, { lag }: { lag: LagMonitor }): Promise<void> {
  app.get('/health/kafka/detailed', async (_request, reply) => {
    const snapshot = lag.snapshot();
    const { failing, message } = verdict(snapshot);
    return reply.code(failing.length > 0 ? 503 : 200).send({
      healthy: failing.length === 0,
      message,
      ...lagSummary(snapshot),
      groups: snapshot.groups.map((g) => ({ group: g.group, ...groupSummary(g), partitions: g.partitions.map(partitionDetail) })),
    });
  });
}
