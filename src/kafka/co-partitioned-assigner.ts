/**
 * A partition assigner that gives partition p of every subscribed topic to
 * the same member, as Kafka Streams does for co-partitioned topics: a
 * processor that joins notification.accepted with the preference table must
 * own partition p of both. (kafkajs' default assigner is round-robin over all
 * topic-partitions, which splits them.)
 */
import { AssignerProtocol, type PartitionAssigner } from 'kafkajs';

export const coPartitionedAssigner: PartitionAssigner = ({ cluster }) => ({
  name: 'TidingsCoPartitioned',
  version: 0,

  async assign({ members, topics }) {
    const memberIds = members.map((m) => m.memberId).sort();
    const assignment = new Map<string, Record<string, number[]>>(memberIds.map((id) => [id, {}]));
    for (const topic of topics) {
      for (const { partitionId } of cluster.findTopicPartitionMetadata(topic)) {
        const owner = assignment.get(memberIds[partitionId % memberIds.length] ?? '');
        if (!owner) continue;
        (owner[topic] ??= []).push(partitionId);
      }
    }
    return [...assignment].map(([memberId, topicPartitions]) => ({
      memberId,
      memberAssignment: AssignerProtocol.MemberAssignment.encode({ version: this.version, assignment: topicPartitions, userData: Buffer.alloc(0) }),
    }));
  },

  protocol({ topics }) {
    return { name: this.name, metadata: AssignerProtocol.MemberMetadata.encode({ version: this.version, topics, userData: Buffer.alloc(0) }) };
  },
});
