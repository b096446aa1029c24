import { describe, expect, it } from 'vitest';
import { progressLine } from '../../src/cli/rebuild.ts';

describe('rebuild progress line', () => {
  it('shows share, offsets, rate and time left', () => {
    expect(progressLine(25_000, 100_000, 1_000)).toBe('rebuild  25%  25,000/100,000 offsets  25,000/s  ETA 3 s');
  });

  it('has no ETA before anything is replayed, and 100% for an empty log', () => {
    expect(progressLine(0, 10, 500)).toBe('rebuild   0%  0/10 offsets  0/s  ETA ?');
    expect(progressLine(0, 0, 0)).toBe('rebuild 100%  0/0 offsets  0/s  ETA 0 s');
  });
});
