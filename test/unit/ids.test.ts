import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { v5 } from 'uuid';
import { stableId, TIDINGS_NAMESPACE } from '../../src/model/ids.ts';

describe('stableId', () => {
  it('is the UUIDv5 that the uuid package computes, for ASCII and non-ASCII names', () => {
    const names = ['', 'job:42:job_failed:user-1', 'ébène:€:😀', ...Array.from({ length: 500 }, (_, i) => randomBytes(i % 50).toString(i % 2 ? 'latin1' : 'base64'))];
    for (const name of names) expect(stableId(name)).toBe(v5(name, TIDINGS_NAMESPACE));
  });
});
