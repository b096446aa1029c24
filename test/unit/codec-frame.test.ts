import { describe, expect, it } from 'vitest';
import { avroType, frame } from '../../src/kafka/codec.ts';
import type { NotificationEvent } from '../../src/model/notification.ts';

const event = (message: string): NotificationEvent => ({
  event_id: null, user_id: 'user-1', audience: null, type: 'job_failed', title: 'Build 7 failed', message, severity: 'error',
  data: JSON.stringify({ job_id: 7 }), action_url: null, source_type: 'job', source_id: '7', occurred_at: 1_764_000_000_000,
});

describe('frame (the Confluent wire format)', () => {
  it('is magic byte 0, the schema id, then the Avro bytes, for small values and for ones larger than the scratch buffer', () => {
    const type = avroType('NotificationEvent');
    for (const message of ['short', 'ü€'.repeat(50_000)]) {
      const value = event(message);
      const bytes = frame(4_242, type, value);
      expect(bytes[0]).toBe(0);
      expect(bytes.readInt32BE(1)).toBe(4_242);
      expect(bytes.subarray(5)).toEqual(type.toBuffer(value));
      expect(type.fromBuffer(bytes.subarray(5))).toMatchObject(value);
    }
    // A later small value is not followed by bytes of the earlier large one.
    expect(frame(1, type, event('x')).length).toBe(5 + type.toBuffer(event('x')).length);
  });
});
