/**
 * Makes one webhook attempt: renders the body for the endpoint's format,
 * signs it (Standard Webhooks; the delivery id is the webhook-id, the same on
 * every attempt), POSTs it through the guarded undici Agent within a time
 * limit, and says what came of it. Never throws for what the endpoint does.
 *
 * Two guards keep one endpoint from holding back the others: at most
 * `maxInFlightPerEndpoint` attempts to an endpoint at once (a delivery that
 * finds no slot within its time limit is not attempted), and a circuit that
 * opens when an endpoint did not answer at all; while it is open, callers may
 * skip it (first attempts do; retries probe it).
 */
import { request, type Dispatcher } from 'undici';
import type { DeliveryCommand, WebhookTarget } from '../../model/routing.ts';
import type { AttemptOutcome } from '../../processors/webhook/decide.ts';
import { retryAfterMs } from '../../processors/webhook/decide.ts';
import { webhookSecretContext, type SecretBox } from '../../secret-box.ts';
import { renderPayload } from './payload.ts';
import { signatureHeaders } from './signing.ts';
import { AddressRefusedError } from './agent.ts';

export interface SenderOptions {
  agent: Dispatcher;
  secrets: SecretBox;
  /** the global webhook's signing secret, when set */
  globalSecret: string | undefined;
  maxInFlightPerEndpoint: number;
  /** ms a circuit stays open after an attempt without an answer */
  circuitOpenMs: number;
  userAgent: string;
  clock?: () => number;
}

export interface AttemptOptions {
  /** ms the attempt may take, waiting for a slot included */
  timeoutMs: number;
  /** skip the endpoint while its circuit is open */
  respectCircuit: boolean;
}

export interface Sender {
  attempt(command: DeliveryCommand, target: WebhookTarget, options: AttemptOptions): Promise<AttemptOutcome>;
}

/** Bytes of an answer's body read (then dropped): enough to reuse the connection, not enough to hurt. */
const MAX_ANSWER_BYTES = 64 * 1024;

export function createSender(options: SenderOptions): Sender {
  const clock = options.clock ?? Date.now;
  const slots = new Map<string, { busy: number; waiting: (() => void)[] }>();
  const openUntil = new Map<string, number>();

  const endpointKey = (command: DeliveryCommand, target: WebhookTarget) => (target.global ? 'global' : `${command.user_id}\u0000${target.endpoint_id}`);

  /** A slot for `key` before `deadline` (performance.now() ms); false when none came free. */
  const acquire = async (key: string, deadline: number): Promise<boolean> => {
    let slot = slots.get(key);
    if (!slot) {
      slot = { busy: 0, waiting: [] };
      slots.set(key, slot);
    }
    while (slot.busy >= options.maxInFlightPerEndpoint) {
      const left = deadline - performance.now();
      if (left <= 0) return false;
      const s = slot;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { s.waiting = s.waiting.filter((w) => w !== wake); resolve(); }, left);
        const wake = () => { clearTimeout(timer); resolve(); };
        s.waiting.push(wake);
      });
    }
    slot.busy += 1;
    return true;
  };
  const release = (key: string) => {
    const slot = slots.get(key);
    if (!slot) return;
    slot.busy -= 1;
    slot.waiting.shift()?.();
    if (slot.busy === 0 && slot.waiting.length === 0) slots.delete(key);
  };

  const secretsOf = (command: DeliveryCommand, target: WebhookTarget): string[] => {
    if (target.format !== 'generic') return []; // Discord, Slack and Teams carry their credential in the URL
    if (target.global) return options.globalSecret ? [options.globalSecret] : [];
    const context = webhookSecretContext(command.user_id, target.endpoint_id);
    const secrets = target.secret_encrypted ? [options.secrets.open(target.secret_encrypted, context)] : [];
    const previousValid = target.previous_secret_expires_at !== null && clock() < target.previous_secret_expires_at;
    if (target.previous_secret_encrypted && previousValid) secrets.push(options.secrets.open(target.previous_secret_encrypted, context));
    return secrets;
  };

  return {
    async attempt(command, target, { timeoutMs, respectCircuit }) {
      const key = endpointKey(command, target);
      const open = openUntil.get(key);
      if (respectCircuit && open !== undefined && clock() < open) {
        return { kind: 'not-attempted', reason: 'the endpoint did not answer recently (circuit open); the retries will try it' };
      }
      const started = performance.now();
      if (!(await acquire(key, started + timeoutMs))) {
        return { kind: 'not-attempted', reason: `${options.maxInFlightPerEndpoint} attempts to this endpoint were already in flight for ${timeoutMs} ms` };
      }
      try {
        let body: string;
        let headers: Record<string, string>;
        try {
          body = renderPayload(target.format, target.url, command.notification);
          const secrets = secretsOf(command, target);
          headers = {
            ...target.headers,
            'content-type': 'application/json',
            'user-agent': options.userAgent,
            ...(secrets.length > 0 ? signatureHeaders({ id: command.delivery_id, timestampMs: clock(), body, secrets }) : { 'webhook-id': command.delivery_id }),
          };
        } catch (err) {
          return { kind: 'no-answer', error: `the delivery cannot be prepared: ${(err as Error).message}`, latencyMs: 0, final: true };
        }
        const left = Math.max(1, timeoutMs - (performance.now() - started));
        const sent = performance.now();
        try {
          const answer = await request(target.url, {
            method: 'POST', dispatcher: options.agent, headers, body,
            signal: AbortSignal.timeout(left), headersTimeout: left, bodyTimeout: left,
          });
          await drain(answer.body);
          openUntil.delete(key);
          const header = answer.headers['retry-after'];
          return {
            kind: 'answered', status: answer.statusCode, latencyMs: performance.now() - sent,
            retryAfterMs: answer.statusCode === 429 || answer.statusCode === 503 ? retryAfterMs(Array.isArray(header) ? header[0] : header, clock()) : undefined,
          };
        } catch (err) {
          const latencyMs = performance.now() - sent;
          if (err instanceof AddressRefusedError) return { kind: 'no-answer', error: `refused: ${err.reason}`, latencyMs, final: true };
          openUntil.set(key, clock() + options.circuitOpenMs);
          return { kind: 'no-answer', error: describe(err, left), latencyMs, final: false };
        }
      } finally {
        release(key);
      }
    },
  };
}

async function drain(body: Dispatcher.ResponseData['body']): Promise<void> {
  let read = 0;
  for await (const chunk of body) {
    read += (chunk as Buffer).length;
    if (read > MAX_ANSWER_BYTES) {
      body.destroy();
      return;
    }
  }
}

/** A network failure in a line: no answer in time, refused, reset … */
function describe(err: unknown, timeoutMs: number): string {
  const e = err as { name?: string; code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (e.name === 'TimeoutError' || e.name === 'AbortError' || e.code === 'UND_ERR_HEADERS_TIMEOUT' || e.code === 'UND_ERR_BODY_TIMEOUT') {
    return `no answer within ${Math.round(timeoutMs)} ms`;
  }
  const code = e.code ?? e.cause?.code;
  return `${code ? `${code}: ` : ''}${e.message ?? e.cause?.message ?? String(err)}`;
}
