import { describe, expect, it } from 'vitest';
import { partitionSerialiser } from '../../src/kafka/runner.ts';

const tick = () => new Promise((resolve) => setTimeout(resolve, 5));

describe('partitionSerialiser', () => {
  it('given two batches of one partition number, when both arrive, then the second starts only after the first ended', async () => {
    const serial = partitionSerialiser();
    const log: string[] = [];
    const batch = (name: string) => async () => { log.push(`${name} start`); await tick(); log.push(`${name} end`); return name; };
    const results = await Promise.all([serial(0, batch('accepted p0')), serial(0, batch('preferences p0'))]);
    expect(results).toEqual(['accepted p0', 'preferences p0']);
    expect(log).toEqual(['accepted p0 start', 'accepted p0 end', 'preferences p0 start', 'preferences p0 end']);
  });

  it('given batches of different partitions, then they run side by side', async () => {
    const serial = partitionSerialiser();
    const log: string[] = [];
    const batch = (name: string) => async () => { log.push(`${name} start`); await tick(); log.push(`${name} end`); };
    await Promise.all([serial(0, batch('p0')), serial(1, batch('p1'))]);
    expect(log).toEqual(['p0 start', 'p1 start', 'p0 end', 'p1 end']);
  });

  it('given a batch that fails, then its caller gets the error and the next batch of the partition still runs', async () => {
    const serial = partitionSerialiser();
    const failed = serial(2, async () => { await tick(); throw new Error('broker down'); });
    const next = serial(2, async () => 'ran');
    await expect(failed).rejects.toThrow('broker down');
    expect(await next).toBe('ran');
  });
});
