import { describe, expect, it } from 'vitest';
import { AssignerProtocol, type Cluster } from 'kafkajs';
import { coPartitionedAssigner } from '../../src/kafka/co-partitioned-assigner.ts';

const cluster = (partitions: Record<string, number>) =>
  ({ findTopicPartitionMetadata: (topic: string) => Array.from({ length: partitions[topic] ?? 0 }, (_, partitionId) => ({ partitionId })) }) as unknown as Cluster;

const decoded = async (topics: Record<string, number>, memberIds: string[]) => {
  const assigner = coPartitionedAssigner({ cluster: cluster(topics), groupId: 'g', logger: undefined as never });
  const result = await assigner.assign({ members: memberIds.map((memberId) => ({ memberId, memberMetadata: Buffer.alloc(0) })), topics: Object.keys(topics) });
  return Object.fromEntries(result.map((r) => [r.memberId, AssignerProtocol.MemberAssignment.decode(r.memberAssignment)?.assignment]));
};

describe('coPartitionedAssigner', () => {
  it('given two members and two topics, then partition p of both topics goes to the same member', async () => {
    expect(await decoded({ accepted: 4, preferences: 4 }, ['m-b', 'm-a'])).toEqual({
      'm-a': { accepted: [0, 2], preferences: [0, 2] },
      'm-b': { accepted: [1, 3], preferences: [1, 3] },
    });
  });

  it('given one member, then it owns every partition', async () => {
    expect(await decoded({ accepted: 3 }, ['only'])).toEqual({ only: { accepted: [0, 1, 2] } });
  });

  it('given more members than partitions, then the extra members get nothing', async () => {
    expect(await decoded({ accepted: 1 }, ['a', 'b'])).toEqual({ a: { accepted: [0] }, b: {} });
  });
});
