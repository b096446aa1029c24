/**
 * Makes one webhook attempt: renders the body for the endpoint's format,
 * signs it (Standard Webhooks; the delivery id is the webhook-id, the same on
 * every attempt), POSTs it through the guarded undici Agent, and says what
 * came of it. Never throws for what the endpoint does.
 *
 * Nothing waits long on one endpoint. A request may stay open for the
 * endpoint's timeout, but its caller waits only `waitMs`; a request still open
 * then goes on unwatched, and the delivery's next attempt takes its answer
 * instead of sending again. At most `maxInFlightPerEndpoint` requests to an
 * endpoint are open at once. An endpoint that did not answer (in time, or at
 * all) gets an open circuit: first attempts skip it, retries send it one probe
 * at a time, and an answer closes it.
 */
import { request, type Dispatcher } from 'undici';
import type { DeliveryCommand, WebhookTarget } from '../../model/routing.ts';
import type { AttemptOutcome } from '../../processors/webhook/decide.ts';
import { retryAfterMs } from '../../processors/webhook/decide.ts';
import { openHeaders, webhookSecretContext, type SecretBox } from '../../secret-box.ts';
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
  /** ms the request may stay open (the endpoint's timeout) */
  timeoutMs: number;
  /** ms the caller waits for it; a request still open then goes on unwatched, and the delivery's next attempt takes its answer */
  waitMs: number;
  /** first attempts skip an endpoint whose circuit is open; retries send one probe at a time to it */
  lane: 'first' | 'retry';
}

export interface Sender {
  attempt(command: DeliveryCommand, target: WebhookTarget, options: AttemptOptions): Promise<AttemptOutcome>;
}

/** Bytes of an answer's body read (then dropped): enough to reuse the connection, not enough to hurt. */
const MAX_ANSWER_BYTES = 64 * 1024;
/** ms an answer that came after its caller stopped waiting is kept for the delivery's next attempt */
const KEEP_LATE_ANSWER_MS = 15 * 60_000;

export function createSender(options: SenderOptions): Sender {
  const clock = options.clock ?? Date.now;
  const slots = new Map<string, { busy: number; waiting: (() => void)[] }>();
  // Per endpoint: open circuit until (ms), and whether a probe is out.
  const circuits = new Map<string, { openUntil: number; probing: boolean }>();
  // Requests by delivery id whose caller stopped waiting: their answer belongs to the delivery's next attempt.
  const unwatched = new Map<string, Promise<AttemptOutcome>>();

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
    const next = slot.waiting.shift();
    // A woken waiter takes the slot object it waited on: it stays while anyone uses or wants it.
    if (next) next();
    else if (slot.busy === 0) slots.delete(key);
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

  const open = (key: string) => circuits.set(key, { openUntil: clock() + options.circuitOpenMs, probing: circuits.get(key)?.probing ?? false });
  // When each endpoint last answered at all (ms): a slow one that does answer keeps its circuit closed.
  const answeredAt = new Map<string, number>();

  /** One POST, within `timeoutMs`; what came of it, for the circuit too. */
  const send = async (command: DeliveryCommand, target: WebhookTarget, key: string, timeoutMs: number): Promise<AttemptOutcome> => {
    let body: string;
    let headers: Record<string, string>;
    try {
      body = renderPayload(target.format, target.url, command.notification);
      const secrets = secretsOf(command, target);
      headers = {
        ...openHeaders(options.secrets, target.headers, command.user_id, target.endpoint_id),
        'content-type': 'application/json',
        'user-agent': options.userAgent,
        ...(secrets.length > 0 ? signatureHeaders({ id: command.delivery_id, timestampMs: clock(), body, secrets }) : { 'webhook-id': command.delivery_id }),
      };
    } catch (err) {
      return { kind: 'no-answer', error: `the delivery cannot be prepared: ${(err as Error).message}`, latencyMs: 0, final: true };
    }
    const sent = performance.now();
    try {
      const answer = await request(target.url, {
        method: 'POST', dispatcher: options.agent, headers, body,
        signal: AbortSignal.timeout(timeoutMs), headersTimeout: timeoutMs, bodyTimeout: timeoutMs,
      });
      await drain(answer.body);
      circuits.delete(key);
      answeredAt.set(key, clock());
      const header = answer.headers['retry-after'];
      return {
        kind: 'answered', status: answer.statusCode, latencyMs: performance.now() - sent,
        retryAfterMs: answer.statusCode === 429 || answer.statusCode === 503 ? retryAfterMs(Array.isArray(header) ? header[0] : header, clock()) : undefined,
      };
    } catch (err) {
      const latencyMs = performance.now() - sent;
      if (err instanceof AddressRefusedError) return { kind: 'no-answer', error: `refused: ${err.reason}`, latencyMs, final: true };
      open(key);
      return { kind: 'no-answer', error: describe(err, timeoutMs), latencyMs, final: false };
    }
  };

  return {
    async attempt(command, target, { timeoutMs, waitMs, lane }) {
      const key = endpointKey(command, target);
      const started = performance.now();
      let pending = unwatched.get(command.delivery_id);
      let probe = false;
      if (pending) {
        unwatched.delete(command.delivery_id);
      } else {
        const circuit = circuits.get(key);
        if (circuit && clock() < circuit.openUntil) {
          if (lane === 'first') return { kind: 'not-attempted', reason: 'the endpoint did not answer recently (circuit open); the retries will try it' };
          if (circuit.probing) return { kind: 'not-attempted', reason: 'the endpoint did not answer recently (circuit open) and is being probed' };
          circuit.probing = true;
          probe = true;
        }
        if (!(await acquire(key, started + waitMs))) {
          if (probe) circuits.get(key)!.probing = false;
          return { kind: 'not-attempted', reason: `${options.maxInFlightPerEndpoint} requests to this endpoint were open for ${waitMs} ms` };
        }
        pending = send(command, target, key, Math.max(1, Math.ceil(timeoutMs))).finally(() => {
          release(key);
          const circuit = circuits.get(key);
          if (probe && circuit) circuit.probing = false;
        });
      }
      const inFlight = pending;
      const left = Math.max(0, waitMs - (performance.now() - started));
      let timer: ReturnType<typeof setTimeout> | undefined;
      const outcome = await Promise.race([inFlight, new Promise<undefined>((resolve) => { timer = setTimeout(() => resolve(undefined), left); })]);
      clearTimeout(timer);
      if (outcome !== undefined) return outcome;
      // Still open: nobody waits for it any more, but its answer is kept for the
      // next attempt. An endpoint that has not answered lately gets an open
      // circuit; a slow one that answers keeps being tried.
      const lastAnswer = answeredAt.get(key);
      if (lastAnswer === undefined || clock() - lastAnswer > options.circuitOpenMs) open(key);
      unwatched.set(command.delivery_id, inFlight);
      const forget = setTimeout(() => { if (unwatched.get(command.delivery_id) === inFlight) unwatched.delete(command.delivery_id); }, timeoutMs + KEEP_LATE_ANSWER_MS);
      forget.unref();
      return { kind: 'no-answer', error: `no answer within ${Math.round(waitMs)} ms; the request stays open for up to ${Math.round(timeoutMs)} ms and the next attempt takes its answer`, latencyMs: performance.now() - started, final: false };
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
