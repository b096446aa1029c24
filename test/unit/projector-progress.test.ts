import { describe, expect, it } from 'vitest';
import { createProjectorProgress, projectorReached, type ProjectorWait } from '../../src/websocket/projector-wait.ts';

/** A wait whose pool must not be used: every wait below ends on this process's commits alone. */
function localWait(progress = createProjectorProgress(), waitMs = 5_000): ProjectorWait {
  const pool = new Proxy({}, { get: () => { throw new Error('Postgres was read'); } }) as ProjectorWait['pool'];
  return { pool, projectorGroup: 'g', pollMs: 20, waitMs, progress };
}

describe('projector progress', () => {
  it('given no commit on a partition, then it knows nothing of it', () => {
    const progress = createProjectorProgress();
    progress.committed('inbox', 1, 10n);
    expect(progress.at('inbox', 0)).toBeUndefined();
    expect(progress.at('reads', 1)).toBeUndefined();
    expect(progress.at('inbox', 1)).toBe(10n);
  });

  it('given commits out of order, then it keeps the highest offset', () => {
    const progress = createProjectorProgress();
    progress.committed('inbox', 0, 10n);
    progress.committed('inbox', 0, 7n);
    expect(progress.at('inbox', 0)).toBe(10n);
  });

  it('given a wait for the next commit, when one comes, then it resolves true; when none comes, false', async () => {
    const progress = createProjectorProgress();
    const waiting = progress.next('inbox', 0, 5_000);
    progress.committed('inbox', 1, 3n); // another partition
    progress.committed('inbox', 0, 4n);
    expect(await waiting).toBe(true);
    expect(await progress.next('inbox', 0, 1)).toBe(false);
  });
});

describe('projectorReached with this process\'s projector', () => {
  it('given the projector committed past the target, then the wait ends at once without reading Postgres', async () => {
    const wait = localWait();
    wait.progress!.committed('inbox', 2, 50n);
    expect(await projectorReached(wait, 'inbox', 2, 42n, () => false)).toBe(true);
  });

  it('given the target is ahead, when commits come, then the wait ends at the one that reaches it', async () => {
    const wait = localWait();
    const progress = wait.progress!;
    progress.committed('inbox', 2, 10n);
    let ended = false;
    const reached = projectorReached(wait, 'inbox', 2, 42n, () => false).then((r) => { ended = true; return r; });
    await new Promise((resolve) => setImmediate(resolve));
    progress.committed('inbox', 2, 30n);
    await new Promise((resolve) => setImmediate(resolve));
    expect(ended).toBe(false);
    progress.committed('inbox', 2, 42n);
    expect(await reached).toBe(true);
  });

  it('given it is stopped while waiting, then the next commit that falls short ends it with false', async () => {
    const wait = localWait();
    const progress = wait.progress!;
    progress.committed('inbox', 0, 1n);
    let stopped = false;
    const reached = projectorReached(wait, 'inbox', 0, 9n, () => stopped);
    stopped = true;
    progress.committed('inbox', 0, 2n);
    expect(await reached).toBe(false);
  });
});
