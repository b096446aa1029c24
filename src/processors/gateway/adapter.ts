/**
 * Wires the gateway to the runner: notification.inbox (what the router put in
 * the inbox, in-app preference and mandatory types applied) → sockets of this
 * instance, security notifications also to admins' sockets; notification.inbox
 * and notification.reads → unread_count frames to every socket of the user
 * (src/websocket/unread-counts.ts). Each gateway instance has its own consumer
 * group and starts at the end of the log; what a browser missed while away it
 * reads from the inbox, or gets on resume (src/websocket/resume.ts).
 */
import type { TopicNames } from '../../kafka/topics.ts';
import type { ProcessorSpec } from '../../kafka/runner.ts';
import type { Sink } from '../../processor.ts';
import type { Connections } from '../../websocket/connections.ts';
import { fromTopic } from '../../kafka/codec.ts';
import { assertNever } from '../../assert-never.ts';
import { fromBeginning, groupId, sourcesOf } from '../../topology.ts';
import type { UnreadCounts } from '../../websocket/unread-counts.ts';
import type { InboxStreams } from '../../websocket/streams.ts';
import { decideGateway, decideRead, type GatewayOutput } from './decide.ts';

export interface GatewayDeps {
  connections: Connections;
  topics: TopicNames;
  prefix: string;
  instanceId: string;
  /** end offsets of each input read at start: where this instance begins, so nothing produced after start is missed */
  startAt: Readonly<Record<string, readonly { partition: number; offset: string }[]>>;
  /** sends unread counts once the projector has a batch's records; none: no unread_count frames */
  unreadCounts?: UnreadCounts;
  /** the users' streams: epochs for the frames' positions, and how far the gateway has pushed */
  streams: InboxStreams;
}

export function gatewayProcessor(deps: GatewayDeps): ProcessorSpec<GatewayOutput> {
  // Where to resume per partition: the start offsets, then past what was pushed,
  // so a consumer restart inside this process neither skips nor repeats frames.
  const position = new Map(Object.entries(deps.startAt).flatMap(([topic, offsets]) => offsets.map((p) => [`${topic}:${p.partition}`, p.offset] as const)));
  const sink: Sink<GatewayOutput> = {
    offsets: 'none',
    async startOffsets(topic, partitions) {
      return partitions.flatMap((partition) => {
        const offset = position.get(`${topic}:${partition}`);
        return offset === undefined ? [] : [{ partition, offset }];
      });
    },
    async apply(batch) {
      position.set(`${batch.topic}:${batch.partition}`, batch.nextOffset);
      const counted = new Set<string>();
      const epoch = deps.streams.epoch(batch.partition);
      // Dead letters of this topic are the projector's to write; the gateway only skips them.
      for (const item of batch.items) {
        for (const output of item.outputs) {
          switch (output.kind) {
            case 'push':
              deps.connections.send(output.userId, { ...output.frame, position: { epoch, offset: item.offset } });
              break;
            case 'alert':
              deps.connections.sendToRole(output.role, output.frame);
              break;
            case 'count':
              counted.add(output.userId);
              break;
            default:
              assertNever(output);
          }
        }
      }
      // Synchronously after the pushes: a resume that reads this sees every frame before it pushed (held if it resumes).
      if (batch.topic === deps.topics.inbox) deps.streams.advance(batch.partition, batch.nextOffset);
      if (counted.size > 0) deps.unreadCounts?.changed(batch.topic, batch.partition, batch.nextOffset, counted);
    },
    async close() {
      deps.unreadCounts?.close();
    },
  };
  return {
    name: 'gateway',
    groupId: groupId('gateway', deps.prefix, deps.instanceId),
    inputs: sourcesOf('gateway', deps.topics),
    fromBeginning: fromBeginning('gateway'),
    decide: (record, _state, ctx) => {
      const input = fromTopic(record, deps.topics, ['inbox', 'reads']);
      return input.from === 'inbox' ? decideGateway(input.value, ctx) : decideRead(input.value);
    },
    sink,
  };
}
