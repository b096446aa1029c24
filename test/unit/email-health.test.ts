import { describe, expect, it } from 'vitest';
import { emailHealth } from '../../src/health/email-check.ts';
import { redact, type TransportState, type TransportStatus } from '../../src/channels/email/transport-pool.ts';

const transport = (index: number, status: TransportStatus): TransportState => ({
  index, url: `smtp://127.0.0.1:${2525 + index}`, status, circuitOpenUntil: null, lastError: null, lastSuccessAt: null,
  rateLimit: { second: { used: 0, limit: 10 }, day: { used: 0, limit: 10_000, resetsAt: 0 }, waiting: { high: 0, bulk: 0 } },
});

describe('emailHealth', () => {
  it('is up while one transport is verified or untried', () => {
    expect(emailHealth([transport(0, 'circuit-open'), transport(1, 'verified')]).status).toBe('up');
    expect(emailHealth([transport(0, 'failing'), transport(1, 'untried')]).status).toBe('up');
  });

  it('is down when every circuit is open or every transport fails', () => {
    expect(emailHealth([transport(0, 'circuit-open'), transport(1, 'circuit-open')]).status).toBe('down');
    expect(emailHealth([transport(0, 'failing'), transport(1, 'circuit-open')]).status).toBe('down');
  });

  it('shows no password of a transport URL', () => {
    expect(redact('smtp://user:s3cret@mail.example.test:587')).toBe('smtp://user:***@mail.example.test:587');
    expect(redact('smtps://mail.example.test/?user=u&pass=s3cret')).not.toContain('s3cret');
  });
});
