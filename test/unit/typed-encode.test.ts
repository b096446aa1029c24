/**
 * What is encoded for a topic is typed by the topic's schema: `tsc --noEmit`
 * (part of `./tidings test`) fails on the lines below if a value for the wrong
 * topic were accepted, through an unused @ts-expect-error.
 */
import { describe, expect, it } from 'vitest';
import type { Codec } from '../../src/kafka/codec.ts';
import type { Publisher } from '../../src/kafka/publisher.ts';
import type { OutRecord } from '../../src/kafka/transactional-sink.ts';
import { topicNames } from '../../src/kafka/topics.ts';
import type { Notification, NotificationEvent } from '../../src/model/notification.ts';

const topics = topicNames('t.');

/** Never called: only compiled. */
export async function typedUses(codec: Codec, publisher: Publisher, event: NotificationEvent, notification: Notification): Promise<OutRecord[]> {
  await codec.encode(topics.events, event);
  await codec.encode(topics.accepted, notification);
  // @ts-expect-error a Notification is not a NotificationEvent
  await codec.encode(topics.events, notification);
  await publisher.publish(topics.events, 'k', event);
  // @ts-expect-error an event is not a Notification
  await publisher.publish(topics.accepted, 'k', event);
  // @ts-expect-error an event is not a Notification
  const wrong: OutRecord = { topic: topics.accepted, key: 'k', value: event };
  return [{ topic: topics.inbox, key: 'k', value: notification }, { topic: topics.dedupe, key: 'k', value: null }, wrong];
}

describe('encode typed by topic', () => {
  it('keeps each registry topic name distinct at run time too', () => {
    expect(topics.events).toBe('t.notification.events');
    expect(new Set(Object.values(topics)).size).toBe(Object.keys(topics).length);
  });
});
