/**
 * The undici Agent webhook deliveries go through. Every connection resolves
 * its host once, checks every address with the guard, and connects to an
 * address it checked: no second lookup, so a DNS answer that changes between
 * check and connect (rebinding) cannot reach a refused address.
 */
import type { LookupAddress } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector } from 'undici';
import { TidingsError } from '../../errors.ts';
import { addressesRefusal, refusal, systemResolver, type Network, type Resolver } from './address-guard.ts';

/** A webhook host or address the guard refuses; delivering again cannot help. */
export class AddressRefusedError extends TidingsError {
  readonly reason: string;

  constructor(reason: string) {
    super('TIDINGS_ADDRESS_REFUSED', `webhook address refused: ${reason}`, 'poison', 400);
    this.name = 'AddressRefusedError';
    this.reason = reason;
  }
}

/** What `createWebhookAgent` needs. */
export interface WebhookAgentOptions {
  /** Networks reachable although their range is refused (TIDINGS_WEBHOOK_ALLOWED_NETWORKS). */
  readonly allowed: readonly Network[];
  /** Keep-alive connections per origin. */
  readonly connectionsPerOrigin: number;
  /** Lookup plus TCP (and TLS) handshake, ms. */
  readonly connectTimeoutMs: number;
  /** The system resolver unless a test needs names of its own. */
  readonly resolve?: Resolver;
}

/**
 * An Agent (keep-alive, `connectionsPerOrigin` connections per origin) whose
 * connections only reach addresses the guard allows. A refusal fails the
 * request with AddressRefusedError; network failures keep their own errors.
 * Redirects are not followed: undici 7 never does without its redirect interceptor.
 */
export function createWebhookAgent(options: WebhookAgentOptions): Agent {
  const { allowed } = options;
  const connector = buildConnector({
    timeout: options.connectTimeoutMs,
    lookup: guardedLookup(allowed, options.resolve ?? systemResolver),
  });
  const connect: buildConnector.connector = (opts, callback) => {
    // Node connects to an IP literal without calling `lookup`, so it is checked here.
    const reason = isIP(opts.hostname) === 0 ? undefined : refusal(opts.hostname, allowed);
    if (reason !== undefined) {
      process.nextTick(callback, new AddressRefusedError(`${opts.hostname}: ${reason}`), null);
      return;
    }
    connector(opts, callback);
  };
  return new Agent({ connections: options.connectionsPerOrigin, connect });
}

/**
 * A `lookup` for net/tls.connect: resolves once and hands back only checked
 * addresses. Node asks for all of them (`all: true`) when it races IPv4
 * against IPv6 (autoSelectFamily, the default in Node 20), else for one.
 */
function guardedLookup(allowed: readonly Network[], resolve: Resolver): LookupFunction {
  return (hostname, lookupOptions, callback) => {
    resolve(hostname).then((resolved) => {
      const addresses: LookupAddress[] = resolved.map(({ address }) => ({ address, family: isIP(address) }));
      const reason = addressesRefusal(hostname, addresses, allowed);
      if (reason !== undefined) {
        callback(new AddressRefusedError(reason), '');
        return;
      }
      const family = lookupOptions.family === 4 || lookupOptions.family === 'IPv4' ? 4
        : lookupOptions.family === 6 || lookupOptions.family === 'IPv6' ? 6 : 0;
      const usable = family === 0 ? addresses : addresses.filter((a) => a.family === family);
      const [first] = usable;
      if (first === undefined) {
        callback(Object.assign(new Error(`${hostname} has no IPv${family} address`), { code: 'ENOTFOUND' }), '');
      } else if (lookupOptions.all === true) {
        callback(null, usable);
      } else {
        callback(null, first.address, first.family);
      }
    }, (err: NodeJS.ErrnoException) => callback(err, ''));
  };
}
