/**
 * Reads a consumer group member's assignment as DescribeGroups returns it: the
 * consumer protocol's Assignment (version int16, [topic string, [partition
 * int32]], user data bytes), the layout every kafkajs and Java assigner writes.
 */

/** topic → partitions assigned; empty for a member between assignments or of another protocol. */
export function decodeAssignment(bytes: Buffer): Map<string, number[]> {
  const assignment = new Map<string, number[]>();
  try {
    let at = 2; // version
    const topics = bytes.readInt32BE(at);
    at += 4;
    for (let t = 0; t < topics; t++) {
      const length = bytes.readInt16BE(at);
      at += 2;
      const topic = bytes.toString('utf8', at, at + length);
      at += length;
      const count = bytes.readInt32BE(at);
      at += 4;
      const partitions: number[] = [];
      for (let p = 0; p < count; p++, at += 4) partitions.push(bytes.readInt32BE(at));
      assignment.set(topic, partitions);
    }
  } catch (err) {
    // A short or foreign buffer: what could be read stands, as no assignment does.
    if (!(err instanceof RangeError)) throw err;
  }
  return assignment;
}
