/** GET /v1/admin/connections on the real gateway: sockets in total and per user, admins only. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { callApi, connectClient, startHarness, waitFor, type Harness } from './harness.ts';

describe('admin connections', () => {
  let h: Harness;
  beforeAll(async () => { h = await startHarness(); });
  afterAll(async () => h?.stop());

  it('counts open sockets per user, most first, follows closes, and is for admins only', async () => {
    const [alice, bob] = [`alice-${randomUUID()}`, `bob-${randomUUID()}`];
    const tokens = { alice: await h.auth.sign({ userId: alice, roles: [] }), bob: await h.auth.sign({ userId: bob, roles: [] }) };
    const admin = await h.auth.sign({ userId: 'ops', roles: ['admin'] });
    const sockets = [
      await connectClient(h.tidings.wsUrl, tokens.bob),
      await connectClient(h.tidings.wsUrl, tokens.alice),
      await connectClient(h.tidings.wsUrl, tokens.alice),
    ];
    const listed = await callApi(h, 'GET', '/v1/admin/connections', admin);
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual({ instance_id: h.config.instanceId, sockets: 3, users: 2, per_user: [{ user_id: alice, sockets: 2 }, { user_id: bob, sockets: 1 }] });
    expect((await callApi(h, 'GET', '/v1/admin/connections?limit=1', admin)).body.per_user).toEqual([{ user_id: alice, sockets: 2 }]);

    sockets[0]!.socket.close();
    await waitFor(async () => ((await callApi(h, 'GET', '/v1/admin/connections', admin)).body.users === 1 ? true : undefined), 'bob\'s socket gone');
    expect((await callApi(h, 'GET', '/v1/admin/connections', admin)).body).toMatchObject({ sockets: 2, per_user: [{ user_id: alice, sockets: 2 }] });

    expect((await callApi(h, 'GET', '/v1/admin/connections', tokens.alice)).status).toBe(403);
    expect((await callApi(h, 'GET', '/v1/admin/connections?limit=0', admin)).status).toBe(400);
    for (const s of sockets.slice(1)) s.socket.close();
  });
});
