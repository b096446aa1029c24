import { describe, expect, it } from 'vitest';
import { delayLabel, parseDelayLabel, topicNames, withExistingTiers } from '../../src/kafka/topics.ts';

describe('retry tiers', () => {
  it('reads back every label delayLabel writes, and nothing else', () => {
    for (const ms of [1, 100, 250, 1_000, 4_000, 90_000, 60_000, 3_600_000, 7_200_000, 1_500]) expect(parseDelayLabel(delayLabel(ms))).toBe(ms);
    for (const label of ['', 's', '0s', '05s', '1.5s', '60s', '1000ms', '4 s', '4S', '4d', 'dlq', '-1s']) expect(parseDelayLabel(label), label).toBeUndefined();
  });

  it('adds the tier topics that exist though the schedule no longer names them, in ascending order', () => {
    const names = topicNames('p.');
    const existing = [
      'p.notification.delivery.webhook.retry.5s', 'p.notification.delivery.webhook.retry.1s', 'p.notification.delivery.webhook.retry.not-a-delay',
      'p.notification.delivery.webhook.dlq', 'p.notification.delivery.email.retry.250ms', 'other.notification.delivery.webhook.retry.9s',
    ];
    expect(withExistingTiers(names, { deliveryWebhookRetry: [1_000, 2_000], deliveryEmailRetry: [1_000] }, existing)).toEqual({
      deliveryWebhookRetry: [1_000, 2_000, 5_000],
      deliveryEmailRetry: [250, 1_000],
    });
    expect(withExistingTiers(names, { deliveryWebhookRetry: [1_000] }, [])).toEqual({ deliveryWebhookRetry: [1_000] });
  });
});
