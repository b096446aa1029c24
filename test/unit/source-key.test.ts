/** Source keys name exactly one (source_type, source_id, type, user_id) tuple. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { eventKey, sourceKey } from '../../src/model/notification.ts';

const tuple = fc.record({
  source_type: fc.string({ unit: fc.constantFrom('a', ':', '\\', '*', 'job', 'x') }),
  source_id: fc.string({ unit: fc.constantFrom('a', ':', '\\', '*', '42', 'v') }),
  type: fc.constantFrom('job_completed', 'job_failed'),
  user: fc.string({ unit: fc.constantFrom('a', ':', '\\', '*', 'v', 'x') }),
});

describe('sourceKey', () => {
  it('keeps ids without ":", "\\" or "*" readable, as before', () => {
    expect(sourceKey({ source_type: 'job', source_id: '42', type: 'job_completed' }, 'alice')).toBe('job:42:job_completed:alice');
  });

  it('ids holding ":" that collided when joined by ":" give different keys', () => {
    const a = sourceKey({ source_type: 'job', source_id: 'a:job_completed:x', type: 'job_completed' }, 'v');
    const b = sourceKey({ source_type: 'job', source_id: 'a', type: 'job_completed' }, 'x:job_completed:v');
    expect(a).not.toBe(b);
    expect(a).toBe('job:a\\:job_completed\\:x:job_completed:v');
  });

  it('two different tuples never share a key', () => {
    fc.assert(fc.property(tuple, tuple, (x, y) => {
      const same = x.source_type === y.source_type && x.source_id === y.source_id && x.type === y.type && x.user === y.user;
      expect(sourceKey(x, x.user) === sourceKey(y, y.user)).toBe(same);
    }), { numRuns: 5_000 });
  });

  it('an audience key is never the key of a single recipient, not even of the user "*"', () => {
    fc.assert(fc.property(tuple, tuple, (x, y) => {
      expect(eventKey({ ...x, user_id: null })).not.toBe(sourceKey(y, y.user));
    }), { numRuns: 5_000 });
    expect(eventKey({ source_type: 'm', source_id: '1', type: 't', user_id: null })).not.toBe(sourceKey({ source_type: 'm', source_id: '1', type: 't' }, '*'));
  });
});
