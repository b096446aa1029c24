import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { TOPICS, topicNames, topicConfig, valueSubject } from '../../src/kafka/topics.ts';

describe('topic registry', () => {
  it('names every topic under the deployment prefix', () => {
    const names = topicNames('staging.');
    expect(names.events).toBe('staging.notification.events');
    expect(names.eventsDlq).toBe('staging.notification.events.dlq');
    expect(Object.values(names).every((n) => n.startsWith('staging.notification.'))).toBe(true);
    expect(new Set(Object.values(names)).size).toBe(Object.keys(TOPICS).length);
  });

  it('keys per-user topics by user id', () => {
    for (const key of ['accepted', 'inbox', 'preferences', 'recipients', 'webhooks', 'deliveryEmail', 'deliveryWebhook', 'reads', 'audit'] as const) {
      expect(TOPICS[key].key).toBe('user_id');
    }
  });

  it('gives compacted topics a compact policy and the events topic a 7-day retention', () => {
    expect(topicConfig(TOPICS.preferences)).toContainEqual({ name: 'cleanup.policy', value: 'compact' });
    expect(topicConfig(TOPICS.dedupe)).toContainEqual({ name: 'cleanup.policy', value: 'compact,delete' });
    expect(topicConfig(TOPICS.events)).toEqual([
      { name: 'cleanup.policy', value: 'delete' },
      { name: 'retention.ms', value: String(7 * 24 * 3_600_000) },
    ]);
  });

  it('keeps the inbox, the inbox\'s event store, forever, with Notification values like accepted', () => {
    expect(TOPICS.inbox).toMatchObject({ base: 'notification.inbox', key: 'user_id', value: 'Notification' });
    expect(topicConfig(TOPICS.inbox)).toEqual([
      { name: 'cleanup.policy', value: 'delete' },
      { name: 'retention.ms', value: '-1' },
    ]);
  });

  it('README\'s Topics table lists every topic of the registry', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const spec of Object.values(TOPICS)) expect(readme).toContain(`| \`${spec.base}\` |`);
  });

  it('README\'s Topics table names the value schema of every topic as the registry does', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const spec of Object.values(TOPICS)) {
      const row = readme.split('\n').find((line) => line.startsWith(`| \`${spec.base}\` |`));
      const value = row?.split('|')[3]?.trim();
      const expected = spec.value === 'original bytes' ? 'original bytes' : `\`${spec.value}\``;
      expect(value, spec.base).toBe(expected);
    }
  });

  it('uses the topic name strategy for subjects', () => {
    expect(valueSubject('notification.events')).toBe('notification.events-value');
  });
});
