/**
 * The SMTP transports of SMTP_URL, in order, each a nodemailer pooled
 * transport with its own circuit breaker and rate limiter.
 *
 * A send goes to the first transport whose circuit is closed. A failure of the
 * transport (no connection, a timeout, a failure before MAIL FROM, a 421: see
 * smtp-errors.ts) opens its circuit and the next transport takes over at
 * once. A circuit open for `circuitOpenMs` lets one send through as a probe;
 * its success closes it, its failure opens it again. A failure of the message
 * (the server answered MAIL FROM, RCPT TO or DATA with a 4xx or 5xx) is
 * thrown as it is: another transport would hear the same, and a 550 must not
 * be sent twice.
 *
 * Before a transport sends, its rate limiter admits the send (waiting, high
 * priority first) or, past the deadline, does not: then nothing is sent. A
 * send goes to the first transport with room at once before it waits for one.
 *
 * The lanes ask `room` before they take records, so that consumption pauses
 * while the limits hold rather than queueing e-mails that would only time out:
 * bulk lanes reserve their room (held for the sends that follow), the
 * priority lane takes its e-mails while room opens soon enough for them to
 * wait in the limiters, where they go before any bulk reservation.
 */
import { connect, type Socket } from 'node:net';
import nodemailer from 'nodemailer';
import SMTPPool from 'nodemailer/lib/smtp-pool/index.js';
import type Mail from 'nodemailer/lib/mailer/index.js';
import { createRateLimiter, EMAIL_RATE_DEFAULTS, type RateLimit, type RateLimiter, type RateLimitUsage, type Schedule, type SendPriority } from './rate-limit.ts';
import { classifySmtpError, SmtpFailure, SmtpNotAttempted } from './smtp-errors.ts';

export interface TransportPoolOptions {
  /** SMTP_URL split at commas, in failover order */
  urls: readonly string[];
  /** nodemailer's pool: connections per transport (default 5) and messages per connection before it is renewed (default 100) */
  pool?: { maxConnections?: number; maxMessages?: number };
  /** ms a transport that failed is skipped before a send probes it */
  circuitOpenMs: number;
  /** ms to connect, and again to get the greeting */
  connectionTimeoutMs: number;
  /** ms of silence on an open connection before it is given up (default 60 s) */
  socketTimeoutMs?: number;
  /** per transport; EMAIL_RATE_DEFAULTS unless given, 0 turns a limit off */
  rateLimit?: RateLimit;
  /** ms since the epoch */
  clock?: () => number;
  schedule?: Schedule;
}

export type TransportStatus = 'untried' | 'verified' | 'circuit-open' | 'failing';

export interface TransportState {
  index: number;
  /** the URL with its password (and any pass= parameter) redacted */
  url: string;
  /** verified: its last connection worked; circuit-open: skipped until `circuitOpenUntil`; failing: its circuit has run out and the next send probes it */
  status: TransportStatus;
  /** ms */
  circuitOpenUntil: number | null;
  lastError: { message: string; code: number | null; at: number } | null;
  /** ms */
  lastSuccessAt: number | null;
  rateLimit: RateLimitUsage;
}

export interface SentVia {
  /** index of the transport that took the message */
  transport: number;
  info: SMTPPool.SentMessageInfo;
  /** ms from admission to the server's answer */
  latencyMs: number;
}

export interface SendOptions {
  priority: SendPriority;
  /** ms a send may wait for its rate limit; past it, it is not made */
  waitMs: number;
  /** the lane reserved room for it (room()) */
  reserved?: boolean;
}

export interface Room {
  /** how many of the wanted e-mails may be taken now */
  take: number;
  /** when `take` is short: ms on the clock to ask again */
  retryAt: number;
}

export interface TransportPool {
  /** Sends through the first usable transport; throws SmtpFailure (tried, failed) or SmtpNotAttempted. */
  send(message: Mail.Options, options: SendOptions): Promise<SentVia>;
  /**
   * How many of `wanted` e-mails a lane may take now. `bulk`: the room the
   * limits leave now, reserved (counted as sent; sends with `reserved` use it).
   * `high`: all of them while some transport has room within `waitMs`.
   */
  room(priority: SendPriority, wanted: number, waitMs: number): Room;
  /** Connects to every transport (or those whose index `only` names) and checks its greeting and login, updating its state. */
  verify(only?: readonly number[]): Promise<TransportState[]>;
  state(): TransportState[];
  close(): void;
}

interface Transport {
  url: string;
  mailer: Mail<SMTPPool.SentMessageInfo>;
  limiter: RateLimiter;
  /** ms; null while the circuit is closed */
  openedAt: number | null;
  probing: boolean;
  verified: boolean;
  lastError: TransportState['lastError'];
  lastSuccessAt: number | null;
  /** sends reserved by room() and not yet made, until `heldUntil` (ms) */
  held: number;
  heldUntil: number;
}

/** ms a reservation waits for its send: the lane sends at once, so only a batch that was given up leaves one unused */
const HOLD_MS = 5_000;

export function createTransportPool(options: TransportPoolOptions): TransportPool {
  const clock = options.clock ?? Date.now;
  if (options.urls.length === 0) throw new RangeError('no SMTP transport is configured');
  const transports: Transport[] = options.urls.map((url) => ({
    url,
    mailer: nodemailer.createTransport(new SMTPPool({
      url,
      pool: true,
      maxConnections: options.pool?.maxConnections ?? 5,
      maxMessages: options.pool?.maxMessages ?? 100,
      connectionTimeout: options.connectionTimeoutMs,
      greetingTimeout: options.connectionTimeoutMs,
      socketTimeout: options.socketTimeoutMs ?? 60_000,
      getSocket: noDelaySocket(options.connectionTimeoutMs),
    })),
    limiter: createRateLimiter({ ...(options.rateLimit ?? EMAIL_RATE_DEFAULTS), clock, schedule: options.schedule }),
    openedAt: null, probing: false, verified: false, lastError: null, lastSuccessAt: null, held: 0, heldUntil: 0,
  }));

  /** Whether `t` may be used now, and if so whether as its circuit's probe. */
  const usable = (t: Transport): 'closed' | 'probe' | false => {
    if (t.openedAt === null) return 'closed';
    if (clock() - t.openedAt < options.circuitOpenMs || t.probing) return false;
    return 'probe';
  };
  const succeeded = (t: Transport) => {
    t.openedAt = null;
    t.verified = true;
    t.lastSuccessAt = clock();
  };
  const failed = (t: Transport, failure: SmtpFailure) => {
    // Only the transport's own faults: a refusal of one message may name its recipient (and /health/email shows this).
    if (failure.stage === 'transport') t.lastError = { message: failure.response, code: failure.code, at: clock() };
    if (failure.stage === 'transport') {
      t.openedAt = clock();
      t.verified = false;
    } else {
      succeeded(t); // it answered: the connection works
    }
  };

  /** Uses one of t's reserved sends, if it holds one. */
  const useHeld = (t: Transport): boolean => {
    if (t.held > 0 && clock() < t.heldUntil) {
      t.held -= 1;
      return true;
    }
    t.held = 0;
    return false;
  };

  return {
    async send(message, { priority, waitMs, reserved = false }) {
      const deadlineMs = clock() + waitMs;
      let last: SmtpFailure | undefined;
      let limited = false;
      // The first transport with room now goes first; the others, in order, after it.
      const ready = transports.find((t) => usable(t) && ((reserved && useHeld(t)) || t.limiter.reserve(priority, 1) === 1));
      for (const t of ready ? [ready, ...transports.filter((other) => other !== ready)] : transports) {
        const index = transports.indexOf(t);
        if (!usable(t)) continue;
        if (t !== ready && !(await t.limiter.acquire(priority, deadlineMs))) {
          limited = true; // this transport's limit is reached: the next one may have room
          continue;
        }
        const use = usable(t); // its circuit may have opened while this send waited
        if (!use) continue;
        if (use === 'probe') t.probing = true;
        const started = performance.now();
        try {
          const info = await t.mailer.sendMail(message);
          succeeded(t);
          return { transport: index, info, latencyMs: performance.now() - started };
        } catch (err) {
          const failure = classifySmtpError(err, index);
          failed(t, failure);
          if (failure.stage === 'message') throw failure;
          last = failure;
        } finally {
          if (use === 'probe') t.probing = false;
        }
      }
      if (last) throw last;
      throw new SmtpNotAttempted(limited
        ? 'the transport\'s rate limit left no room before the deadline'
        : `every transport failed within the last ${options.circuitOpenMs} ms (circuit open)`);
    },
    room(priority, wanted, waitMs) {
      const now = clock();
      const open = transports.filter((t) => usable(t));
      // With every circuit open the attempts say so at once.
      if (open.length === 0 || wanted === 0) return { take: wanted, retryAt: now };
      if (priority === 'high') {
        const soonest = Math.min(...open.map((t) => t.limiter.nextRoomAt()));
        return soonest <= now + waitMs ? { take: wanted, retryAt: now } : { take: 0, retryAt: soonest - waitMs };
      }
      let take = 0;
      for (const t of open) {
        const granted = t.limiter.reserve('bulk', wanted - take);
        if (granted > 0) {
          t.held = (now < t.heldUntil ? t.held : 0) + granted;
          t.heldUntil = now + HOLD_MS;
          take += granted;
        }
        if (take === wanted) return { take, retryAt: now };
      }
      return { take, retryAt: Math.max(now + 1, Math.min(...open.map((t) => t.limiter.nextRoomAt()))) };
    },
    async verify(only) {
      await Promise.all(transports.map(async (t, index) => {
        if (only && !only.includes(index)) return;
        try {
          await t.mailer.verify();
          succeeded(t);
        } catch (err) {
          failed(t, classifySmtpError(err, index));
        }
      }));
      return this.state();
    },
    state() {
      return transports.map((t, index) => ({
        index,
        url: redact(t.url),
        status: t.openedAt === null ? (t.verified ? 'verified' : 'untried') : clock() - t.openedAt < options.circuitOpenMs ? 'circuit-open' : 'failing',
        circuitOpenUntil: t.openedAt === null ? null : t.openedAt + options.circuitOpenMs,
        lastError: t.lastError,
        lastSuccessAt: t.lastSuccessAt,
        rateLimit: t.limiter.usage(),
      }));
    },
    close() {
      for (const t of transports) {
        t.limiter.close();
        t.mailer.close();
      }
    },
  };
}

/**
 * nodemailer's socket hook: the TCP connection opened with TCP_NODELAY, which
 * nodemailer never sets. Without it each message's last small write waits
 * for the server's delayed ACK (Nagle), about 40 ms a message: five pooled
 * connections sent ~100 e-mails/s to a loopback server (bench:email). TLS
 * (smtps:// and STARTTLS) runs over this socket; nodemailer upgrades it.
 * A failure to connect carries nodemailer's own code for it (ESOCKET, or
 * ETIMEDOUT), so it counts as the transport's fault.
 */
function noDelaySocket(timeoutMs: number) {
  return (target: { host?: string; port?: number; secure?: boolean }, callback: (err: Error | null, socket?: { connection: Socket }) => void): void => {
    const socket = connect({ host: target.host ?? 'localhost', port: target.port ?? (target.secure ? 465 : 587), noDelay: true });
    let settled = false;
    const settle = (err: Error | null) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.removeListener('error', onError);
      if (err) {
        socket.destroy();
        callback(err);
      } else callback(null, { connection: socket });
    };
    const onError = (err: NodeJS.ErrnoException) => settle(Object.assign(new Error(err.message), { code: 'ESOCKET', command: 'CONN', cause: err }));
    const timer = setTimeout(() => settle(Object.assign(new Error('Connection timeout'), { code: 'ETIMEDOUT', command: 'CONN' })), timeoutMs);
    socket.once('error', onError);
    socket.once('connect', () => settle(null));
  };
}

/** `smtp://user:secret@host` → `smtp://user:***@host`; pass= and password= parameters too. */
export function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    for (const key of [...u.searchParams.keys()]) if (/^pass(word)?$|secret|token/i.test(key)) u.searchParams.set(key, '***');
    return u.href;
  } catch {
    return '(unreadable URL)';
  }
}
