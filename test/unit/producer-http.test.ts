/** The HTTP transport's answers as errors: a loopback server stands in for a Tidings' POST /v1/events. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthError, TransientError, ValidationError } from '../../src/errors.ts';
import { createHttpTransport, createProducerClient, type EventInput } from '../../src/producer/index.ts';

const input: EventInput = { user_id: 'alice', type: 'job_completed', title: 'Job done', message: 'ok', source_type: 'job', source_id: '42', data: { job_id: 42 } };

describe('HTTP transport', () => {
  let server: Server;
  let url: string;
  const bodies: { authorization?: string; body: Record<string, unknown> }[] = [];
  /** status and JSON answer by the event's title */
  const answers: Record<string, [number, unknown]> = {
    'Job done': [202, { status: 'accepted', source_key: 'job:42:job_completed:alice', notification_ids: { alice: 'id-1' }, partition: 1, offset: '7' }],
    refused: [400, { error: 'TIDINGS_INVALID', message: 'invalid: data.checkpoint: required', reasons: ['data.checkpoint: required'] }],
    unauthorised: [401, { error: 'TIDINGS_UNAUTHENTICATED', message: 'token expired' }],
    busy: [503, { error: 'TIDINGS_TRANSIENT', message: 'kafka unavailable' }],
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      let text = '';
      req.on('data', (chunk: Buffer) => { text += chunk.toString(); });
      req.on('end', () => {
        const body = JSON.parse(text) as Record<string, unknown>;
        bodies.push({ authorization: req.headers.authorization, body });
        const [status, answer] = answers[String(body.title)] ?? [500, {}];
        res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const client = () => createProducerClient({ transport: createHttpTransport({ url, token: 'jwt' }) });

  it('posts the event as JSON, data as an object, with the bearer token; answers where it was written', async () => {
    expect(await client().send(input)).toEqual({ key: 'job:42:job_completed:alice', notificationIds: { alice: 'id-1' }, partition: 1, offset: '7' });
    expect(bodies.at(-1)).toMatchObject({ authorization: 'Bearer jwt', body: { user_id: 'alice', data: { job_id: 42 }, severity: 'info', cancels: [] } });
  });

  it('a 400 is a ValidationError with the server\'s reasons', async () => {
    await expect(client().send({ ...input, title: 'refused' })).rejects.toThrow(new ValidationError(['data.checkpoint: required']));
  });

  it('a 401 is an AuthError, a 503 a TransientError (retriable)', async () => {
    await expect(client().send({ ...input, title: 'unauthorised' })).rejects.toBeInstanceOf(AuthError);
    const busy = await client().send({ ...input, title: 'busy' }).catch((err: unknown) => err);
    expect(busy).toBeInstanceOf(TransientError);
    expect((busy as TransientError).retriable).toBe(true);
  });

  it('nobody listening is a TransientError', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const transport = createHttpTransport({ url: `http://127.0.0.1:${port}`, token: 'jwt' });
    await expect(createProducerClient({ transport }).send(input)).rejects.toBeInstanceOf(TransientError);
  });
});
