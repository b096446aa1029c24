/**
 * Events posted to a Tidings' HTTP ingest, POST /v1/events, with a bearer
 * token holding the `producer` (or `admin`) role. The server checks them
 * again and writes them to notification.events for the producer.
 */
import { AuthError, TransientError, ValidationError, TidingsError } from '../errors.ts';
import type { NotificationEvent } from '../model/notification.ts';
import type { Sent, Transport } from './transport.ts';

export interface HttpTransportOptions {
  /** the Tidings' base URL, e.g. http://127.0.0.1:3000 */
  url: string;
  /** a JWT with role producer or admin (`tidings token <service> producer`) */
  token: string;
  /** default: the global fetch (undici) */
  fetch?: typeof fetch;
}

interface Accepted {
  source_key: string;
  notification_ids: Record<string, string>;
  partition: number;
  offset: string;
}

export function createHttpTransport({ url, token, fetch: fetchFn = fetch }: HttpTransportOptions): Transport {
  const endpoint = new URL('/v1/events', url).toString();
  return {
    async send(events) {
      const sent: Sent[] = [];
      // One after another, so that events of one key arrive in order.
      for (const { event, key, notificationIds } of events) {
        const accepted = await post(fetchFn, endpoint, token, jsonBody(event));
        sent.push({ key: accepted.source_key ?? key, notificationIds: accepted.notification_ids ?? notificationIds, partition: accepted.partition, offset: accepted.offset });
      }
      return sent;
    },
    close: async () => {},
  };
}

/** The JSON body of an event: `data` as an object, as the ingest endpoint takes it. */
export function jsonBody(event: NotificationEvent): Record<string, unknown> {
  return { ...event, data: event.data === null ? null : (JSON.parse(event.data) as unknown) };
}

async function post(fetchFn: typeof fetch, endpoint: string, token: string, body: Record<string, unknown>): Promise<Accepted> {
  let response: Response;
  try {
    response = await fetchFn(endpoint, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  } catch (err) {
    throw new TransientError(`POST ${endpoint} failed: ${(err as Error).message}`, { cause: err });
  }
  const answer = (await response.json().catch(() => ({}))) as Partial<Accepted> & { error?: string; message?: string; reasons?: string[] };
  if (response.status === 202) return answer as Accepted;
  const said = answer.message ?? `HTTP ${response.status}`;
  if (response.status === 400) throw new ValidationError(answer.reasons ?? [said]);
  if (response.status === 401 || response.status === 403) throw new AuthError(`POST ${endpoint}: ${said}`, response.status);
  if (response.status === 429 || response.status >= 500) throw new TransientError(`POST ${endpoint}: ${said}`);
  throw new TidingsError(answer.error ?? 'TIDINGS_HTTP', `POST ${endpoint}: ${said}`, 'poison', response.status);
}
