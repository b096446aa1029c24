/**
 * SIGKILL while webhook deliveries wait in the retry topics: nothing is lost.
 * A `tidings start` process runs the pipeline and the webhook role; every
 * delivery's first attempt gets a 500, the process is killed before any retry
 * is due, and a new process finishes them. Each delivery reaches the receiver
 * with its one webhook-id (at least once; the receiver drops repeats by it).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { createCodec } from '../../src/kafka/codec.ts';
import { ENDPOINT_DEFAULTS, type DeliveryResult } from '../../src/model/routing.ts';
import { callApi, isolatedSettings, readTopic, startWith, waitFor, type Harness } from './harness.ts';
import { startTidingsProcess, type TidingsProcess } from './tidings-process.ts';
import { startReceiver, type Receiver } from './receivers.ts';

describe('webhook deliveries across a SIGKILL', () => {
  const children: TidingsProcess[] = [];
  let front: Harness | undefined;
  let receiver: Receiver | undefined;
  afterAll(async () => {
    for (const c of children) c.kill();
    await front?.stop();
    await receiver?.close();
  });

  it('finishes every delivery that was waiting for its retry when the process was killed, each under its one webhook-id', async () => {
    receiver = await startReceiver('127.0.0.2');
    const path = '/crash';
    // Each delivery's first request fails; any later one succeeds.
    receiver.answerWith(path, (r, before) => (before.some((b) => b.headers['webhook-id'] === r.headers['webhook-id']) ? { status: 200 } : { status: 500 }));
    const settings = await isolatedSettings({
      LOG_LEVEL: 'warn', TIDINGS_WEBHOOK_ALLOWED_NETWORKS: '127.0.0.2/32', TIDINGS_WEBHOOK_RETRY_SCHEDULE: '3s,3s,3s,3s',
    });
    const back = await startTidingsProcess({ ...settings.env, TIDINGS_ROLES: 'dedupe,router,projector,webhook', TIDINGS_INSTANCE_ID: `${settings.id}-a` });
    children.push(back);
    front = await startWith(settings, { TIDINGS_ROLES: 'ingest,api', TIDINGS_INSTANCE_ID: `${settings.id}-front` });
    const user = `u-${randomUUID()}`;
    await front.tidings.publisher.publish(front.tidings.topics.webhooks, user, {
      user_id: user, updated_at: Date.now(),
      endpoints: [{ ...ENDPOINT_DEFAULTS, id: 'crash', url: `${receiver.url}${path}`, format: 'generic', secret_encrypted: null, enabled: true, types: [] }],
    });
    const producer = await front.auth.sign({ userId: 'producer', roles: ['producer'] });
    // The router must have the endpoint before the events: wait for one delivery of a first event.
    const post = async () => expect((await callApi(front!, 'POST', '/v1/events', producer, {
      user_id: user, type: 'job_failed', title: 'Job failed', message: 'exit 1', source_type: 'job', source_id: randomUUID(),
    })).status).toBe(202);
    await waitFor(async () => {
      if (receiver!.at(path).length > 0) return true;
      await post();
      return undefined;
    }, 'a first delivery', 60_000);
    for (let i = 0; i < 4; i++) await post();
    const ids = () => new Set(receiver!.at(path).map((r) => r.headers['webhook-id']));
    await back.waitFor(() => (receiver!.at(path).length >= ids().size && ids().size >= 5 ? true : undefined), 'first attempts of every delivery', 30_000);
    const firstAttempts = receiver.at(path).length;
    back.kill(); // before the retries are due (3 s)
    expect(receiver.at(path).every((r, i, all) => all.findIndex((o) => o.headers['webhook-id'] === r.headers['webhook-id']) === i)).toBe(true);

    const again = await startTidingsProcess({ ...settings.env, TIDINGS_ROLES: 'dedupe,router,projector,webhook', TIDINGS_INSTANCE_ID: `${settings.id}-b` });
    children.push(again);
    const delivered = await again.waitFor(() => {
      const ok = new Set(receiver!.at(path).filter((r, i, all) => all.slice(0, i).some((b) => b.headers['webhook-id'] === r.headers['webhook-id'])).map((r) => r.headers['webhook-id']));
      return [...ids()].every((id) => ok.has(id)) ? ok : undefined;
    }, 'a second, successful request for every delivery', 90_000);
    expect(delivered.size).toBe(ids().size);
    expect(receiver.at(path).length).toBeGreaterThan(firstAttempts);

    const codec = createCodec(settings.endpoints.schemaRegistryUrl);
    const sent = await waitFor(async () => {
      const results = (await readTopic(settings.endpoints.kafkaBrokers, front!.tidings.topics.deliveryResults, (v) => codec.decode('DeliveryResult', v)))
        .map((r) => r.value).filter((r): r is DeliveryResult => r?.user_id === user && r.outcome === 'sent');
      return new Set(results.map((r) => r.delivery_id)).size >= ids().size ? results : undefined;
    }, 'a sent result for every delivery');
    expect(new Set(sent.map((r) => r.delivery_id))).toEqual(ids());
    expect(await again.stop()).toBe(0);
    children.length = 0;
  }, 240_000);
});
