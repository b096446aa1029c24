/**
 * The lag monitor's latest sample as Prometheus gauges, set before each
 * scrape from its snapshot (a scrape makes no Kafka round trip):
 * - `tidings_consumer_lag{group,topic,partition}`: records behind the log end;
 * - `tidings_consumer_group_status{group,status}`: 1 for the group's status
 *   (OK, WARN, ERR), 0 for the others;
 * - `tidings_consumer_partition_status{group,topic,partition,status}`: the same per partition
 *   (OK, WARN, STOP, STALL, REWIND);
 * - `tidings_retry_topic_depth{topic}`: records waiting in a retry tier, the
 *   lag of its retry lane's group.
 */
import { Gauge } from 'prom-client';
import type { Metrics } from '../metrics.ts';
import type { LagMonitor } from './lag-monitor.ts';
import { PARTITION_STATUSES, GROUP_STATUSES } from './lag-rules.ts';
import { groupId } from '../topology.ts';

export function registerLagMetrics(metrics: Metrics, lag: LagMonitor, prefix: string): void {
  const registers = [metrics.registry];
  const byPartition = ['group', 'topic', 'partition'] as const;
  const consumerLag = new Gauge({ name: 'tidings_consumer_lag', help: 'Records a consumer group is behind the log end, per partition, at the lag monitor\'s last sample.', labelNames: byPartition, registers });
  const groupStatus = new Gauge({ name: 'tidings_consumer_group_status', help: 'A consumer group\'s status graded like Burrow: 1 for the current one (OK, WARN, ERR), 0 for the others.', labelNames: ['group', 'status'], registers });
  const partitionStatus = new Gauge({ name: 'tidings_consumer_partition_status', help: 'A partition\'s status graded like Burrow: 1 for the current one (OK, WARN, STOP, STALL, REWIND), 0 for the others.', labelNames: [...byPartition, 'status'], registers });
  const retryDepth = new Gauge({ name: 'tidings_retry_topic_depth', help: 'Records waiting in a retry tier topic: its retry lane\'s lag.', labelNames: ['topic'], registers });
  const retryGroups = new Set([groupId('webhook-retry', prefix), groupId('email-retry', prefix)]);

  metrics.addCollector(() => {
    consumerLag.reset();
    groupStatus.reset();
    partitionStatus.reset();
    retryDepth.reset();
    for (const g of lag.snapshot().groups) {
      for (const status of GROUP_STATUSES) groupStatus.set({ group: g.group, status }, g.status === status ? 1 : 0);
      const depth = new Map<string, number>();
      for (const p of g.partitions) {
        const labels = { group: g.group, topic: p.topic, partition: String(p.partition) };
        for (const status of PARTITION_STATUSES) partitionStatus.set({ ...labels, status }, p.status === status ? 1 : 0);
        if (p.lag === null) continue;
        consumerLag.set(labels, Number(p.lag));
        if (retryGroups.has(g.group)) depth.set(p.topic, (depth.get(p.topic) ?? 0) + Number(p.lag));
      }
      for (const [topic, records] of depth) retryDepth.set({ topic }, records);
    }
  });
}
