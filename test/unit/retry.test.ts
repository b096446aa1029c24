import { describe, expect, it } from 'vitest';
import { withRetry, backoffMs } from '../../src/kafka/retry.ts';
import { TransientError, ValidationError } from '../../src/errors.ts';

const fast = { retries: 3, initialMs: 1, maxMs: 2 };

describe('withRetry', () => {
  it('given a transient failure that clears, then the call is retried until it succeeds', async () => {
    let calls = 0;
    const result = await withRetry(async () => {
      calls += 1;
      if (calls < 3) throw new TransientError('broker away');
      return 'done';
    }, fast);
    expect(result).toBe('done');
    expect(calls).toBe(3);
  });

  it('given a transient failure that persists, then it gives up after the retries', async () => {
    let calls = 0;
    await expect(withRetry(async () => { calls += 1; throw new TransientError('down'); }, fast)).rejects.toThrow('down');
    expect(calls).toBe(4);
  });

  it('given poison input or a programmer error, then it is not retried', async () => {
    for (const error of [new ValidationError(['x: bad']), new TypeError('undefined is not a function')]) {
      let calls = 0;
      await expect(withRetry(async () => { calls += 1; throw error; }, fast)).rejects.toBe(error);
      expect(calls).toBe(1);
    }
  });

  it('given a stop request, then it stops retrying', async () => {
    let calls = 0;
    await expect(withRetry(async () => { calls += 1; throw new TransientError('down'); }, { ...fast, shouldStop: () => true })).rejects.toThrow();
    expect(calls).toBe(1);
  });

  it('doubles the delay up to the cap', () => {
    expect([1, 2, 3, 4, 5].map((a) => backoffMs(a, { initialMs: 100, maxMs: 500 }))).toEqual([100, 200, 400, 500, 500]);
  });
});
