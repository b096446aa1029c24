/**
 * The level a kafkajs log entry gets in Tidings' log (src/kafka/client.ts):
 * retried failures are not errors, real ones stay errors.
 */
import { describe, expect, it } from 'vitest';
import { logLevel } from 'kafkajs';
import { kafkajsLevel } from '../../src/kafka/client.ts';

// As kafkajs 2.2.4 writes them (src/producer/sendMessages.js, src/protocol/error.js).
const concurrent = 'Failed to send messages: The producer attempted to update a transaction while another concurrent operation on the same transaction was ongoing';

describe('kafkajs log levels', () => {
  it('logs a transactional produce answered CONCURRENT_TRANSACTIONS at debug: it is retried at once', () => {
    expect(kafkajsLevel(logLevel.ERROR, 'Producer', concurrent)).toBe('debug');
  });

  it('keeps other producer errors as errors, and the same text from another namespace', () => {
    expect(kafkajsLevel(logLevel.ERROR, 'Producer', 'Failed to send messages: This server is not the leader for that topic-partition')).toBe('error');
    expect(kafkajsLevel(logLevel.ERROR, 'Producer', 'The producer has been fenced by a newer instance')).toBe('error');
    expect(kafkajsLevel(logLevel.ERROR, 'Consumer', concurrent)).toBe('error');
  });

  it('logs failed requests of a connection as warnings, and passes the other levels through', () => {
    expect(kafkajsLevel(logLevel.ERROR, 'Connection', 'Response Heartbeat(key: 12, version: 3)')).toBe('warn');
    expect(kafkajsLevel(logLevel.WARN, 'Producer', 'x')).toBe('warn');
    expect(kafkajsLevel(logLevel.INFO, 'Consumer', 'x')).toBe('info');
    expect(kafkajsLevel(logLevel.DEBUG, 'Consumer', 'x')).toBe('debug');
  });
});
