/**
 * Wires the gateway to the runner: notification.inbox (what the router put in
 * the inbox, in-app preference and mandatory types applied) → sockets of this
 * instance, security notifications also to admins' sockets. Each gateway instance has its own consumer group and starts at the
 * end of the log; what a browser missed while away it reads from the inbox.
 */
import type { TopicNames } from '../../kafka/topics.ts';
import type { ProcessorSpec } from '../../kafka/runner.ts';
import type { Sink } from '../../processor.ts';
import type { Connections } from '../../websocket/connections.ts';
import { fromTopic } from '../../kafka/codec.ts';
import { assertNever } from '../../assert-never.ts';
import { fromBeginning, groupId, sourcesOf } from '../../topology.ts';
import { decideGateway, type GatewayOutput } from './decide.ts';

export interface GatewayDeps {
  connections: Connections;
  topics: TopicNames;
  prefix: string;
  instanceId: string;
  /** end offsets read at start: where this instance begins, so nothing produced after start is missed */
  startAt: { partition: number; offset: string }[];
}

export function gatewayProcessor(deps: GatewayDeps): ProcessorSpec<GatewayOutput> {
  // Where to resume per partition: the start offsets, then past what was pushed,
  // so a consumer restart inside this process neither skips nor repeats frames.
  const position = new Map(deps.startAt.map((p) => [p.partition, p.offset]));
  const sink: Sink<GatewayOutput> = {
    offsets: 'none',
    async startOffsets(_topic, partitions) {
      return partitions.flatMap((partition) => {
        const offset = position.get(partition);
        return offset === undefined ? [] : [{ partition, offset }];
      });
    },
    async apply(batch) {
      position.set(batch.partition, batch.nextOffset);
      // Dead letters of this topic are the projector's to write; the gateway only skips them.
      for (const item of batch.items) {
        for (const output of item.outputs) {
          switch (output.kind) {
            case 'push':
              deps.connections.send(output.userId, output.frame);
              break;
            case 'alert':
              deps.connections.sendToRole(output.role, output.frame);
              break;
            default:
              assertNever(output);
          }
        }
      }
    },
    async close() {},
  };
  return {
    name: 'gateway',
    groupId: groupId('gateway', deps.prefix, deps.instanceId),
    inputs: sourcesOf('gateway', deps.topics),
    fromBeginning: fromBeginning('gateway'),
    decide: (record) => decideGateway(fromTopic(record, deps.topics, ['inbox']).value),
    sink,
  };
}
