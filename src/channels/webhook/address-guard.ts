/**
 * Which addresses a user-supplied webhook URL may reach. Pure classification
 * over IP address strings; the only I/O is the resolver `vetUrl` is given.
 * The connection-time check that uses the same rules is in ./agent.ts.
 */
import type { LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

type IP = ipaddr.IPv4 | ipaddr.IPv6;

/** A CIDR network an operator allows webhooks to reach although its range is refused. */
export interface Network {
  /** Normalised `address/prefix`, for logs and error messages. */
  readonly cidr: string;
  readonly base: IP;
  readonly prefixLength: number;
}

/** Resolves a host name to every address it has (like `dns.promises.lookup(name, { all: true })`). */
export type Resolver = (hostname: string) => Promise<readonly LookupAddress[]>;

/** The system resolver (getaddrinfo), every address of both families. */
export const systemResolver: Resolver = (hostname) => lookup(hostname, { all: true });

// Refused whatever the allowed networks say: an allowed fd00::/8 must not open
// AWS's IPv6 metadata service, nor an allowed 168.63.0.0/16 Azure's wire server.
const metadataEndpoints = new Map<string, string>([
  ['169.254.169.254', 'AWS, GCP, Azure, OCI'],
  ['fd00:ec2::254', 'AWS'],
  ['fd20:ce::254', 'GCP'],
  ['100.100.100.200', 'Alibaba Cloud'],
  ['168.63.129.16', 'Azure wire server'],
]);

const rangeNames: Record<string, string> = {
  unspecified: 'an unspecified address',
  broadcast: 'the broadcast address',
  multicast: 'a multicast address',
  linkLocal: 'a link-local address',
  loopback: 'a loopback address',
  carrierGradeNat: 'a carrier-grade NAT address (100.64.0.0/10)',
  private: 'a private address',
  uniqueLocal: 'a unique-local address (fc00::/7)',
  reserved: 'in a reserved or documentation range',
  benchmarking: 'in a benchmarking range',
  // Only the local-use NAT64 prefix gets this far (see embeddedIPv4).
  rfc6052: 'a local-use NAT64 address (64:ff9b:1::/48), whose IPv4 address depends on the local translator',
};

const describeRange = (range: string): string => rangeNames[range] ?? `in the special-purpose range "${range}"`;

const globalUnicast = ipaddr.IPv6.parseCIDR('2000::/3');

/** Parses an IP address in the strict form Node's sockets take (no "127.1", no "0x7f.0.0.1"). */
function parseAddress(address: string): IP | undefined {
  switch (isIP(address)) {
    case 4: return ipaddr.IPv4.parse(address);
    case 6: return ipaddr.IPv6.parse(withHexTail(address));
    default: return undefined;
  }
}

/**
 * ipaddr.js 2.5 reads "::a.b.c.d" as the IPv4-mapped ::ffff:a.b.c.d, but a
 * socket reads it as ::a.b.c.d (IPv4-compatible); the guard must classify the
 * address the socket will use, so the dotted tail becomes two hex groups first.
 */
function withHexTail(address: string): string {
  return address.replace(/(\d+)\.(\d+)\.(\d+)\.(\d+)(?=%|$)/, (_, a: string, b: string, c: string, d: string) =>
    `${((Number(a) << 8) | Number(b)).toString(16)}:${((Number(c) << 8) | Number(d)).toString(16)}`);
}

/**
 * Parses a comma-separated list of CIDR networks, IPv4 or IPv6
 * ("127.0.0.2/32,fd00::/8"); a bare address is a one-address network and empty
 * entries are skipped. Throws a TypeError that names every bad entry.
 */
export function parseNetworks(list: string): Network[] {
  const networks: Network[] = [];
  const bad: string[] = [];
  for (const entry of list.split(',').map((e) => e.trim()).filter((e) => e !== '')) {
    const parsed = parseNetwork(entry);
    if (typeof parsed === 'string') bad.push(`"${entry}" (${parsed})`);
    else networks.push(parsed);
  }
  if (bad.length > 0) throw new TypeError(`invalid network${bad.length > 1 ? 's' : ''}: ${bad.join(', ')}`);
  return networks;
}

function parseNetwork(entry: string): Network | string {
  const [address = '', prefix, ...rest] = entry.split('/');
  if (rest.length > 0) return 'more than one "/"';
  if (address.includes('%')) return 'a zone index has no place in a network';
  const base = parseAddress(address);
  if (base === undefined) return 'not an IP address';
  const maxLength = base.kind() === 'ipv4' ? 32 : 128;
  if (prefix !== undefined && !/^\d{1,3}$/.test(prefix)) return 'the prefix length is not a number';
  const prefixLength = prefix === undefined ? maxLength : Number(prefix);
  if (prefixLength > maxLength) return `the prefix length must be 0-${maxLength}`;
  return Object.freeze({ cidr: `${base.toString()}/${prefixLength}`, base, prefixLength });
}

function inAllowed(ip: IP, allowed: readonly Network[]): boolean {
  return allowed.some((n) => n.base.kind() === ip.kind() && ip.match(n.base, n.prefixLength));
}

/**
 * The reason `address` (an IP address string) may not be reached, or undefined
 * if it may. Only public unicast addresses pass, and those inside `allowed`;
 * cloud metadata endpoints never do. IPv6 forms that carry an IPv4 address
 * (mapped, translated, compatible, NAT64, 6to4, Teredo) are refused when the
 * IPv4 address they carry is.
 */
export function refusal(address: string, allowed: readonly Network[]): string | undefined {
  const ip = parseAddress(address);
  if (ip === undefined) return `${address} is not an IP address`;
  // A zone index picks an interface; only link-local scopes need one.
  if (ip.kind() === 'ipv6' && (ip as ipaddr.IPv6).zoneId !== undefined) return `${address} is a scoped address`;
  const metadata = metadataEndpoints.get(ip.toString());
  if (metadata !== undefined) return `${address} is a cloud metadata endpoint (${metadata})`;
  if (inAllowed(ip, allowed)) return undefined;
  if (ip.kind() === 'ipv4') {
    const range = ip.range();
    return range === 'unicast' ? undefined : `${address} is ${describeRange(range)}`;
  }
  return ipv6Refusal(address, ip as ipaddr.IPv6, allowed);
}

function ipv6Refusal(address: string, ip: ipaddr.IPv6, allowed: readonly Network[]): string | undefined {
  const range = ip.range();
  // :: and ::1 before the embedded forms: they would read as 0.0.0.0 and 0.0.0.1.
  if (range === 'unspecified' || range === 'loopback') return `${address} is ${describeRange(range)}`;
  const embedded = embeddedIPv4(ip, range);
  if (embedded !== undefined) {
    for (const v4 of embedded.addresses) {
      const reason = refusal(v4.toString(), allowed);
      if (reason !== undefined) return `${address} carries ${v4.toString()} (${embedded.form}): ${reason}`;
    }
    // Traffic to these forms goes to the IPv4 address they carry, which passed.
    if (embedded.reachesCarried) return undefined;
  }
  if (range !== 'unicast') return `${address} is ${describeRange(range)}`;
  if (!ip.match(globalUnicast)) return `${address} is outside the global unicast range 2000::/3`;
  return undefined;
}

interface Embedded {
  readonly form: string;
  readonly addresses: readonly ipaddr.IPv4[];
  /** Whether connecting to the IPv6 address reaches the IPv4 one it carries, so that passing it passes the address. */
  readonly reachesCarried: boolean;
}

const v4At = (bytes: readonly number[], ...at: number[]) => new ipaddr.IPv4(at.map((i) => bytes[i] ?? 0));

/** The IPv4 address(es) an IPv6 address carries, by the form ipaddr.js names its range. */
function embeddedIPv4(ip: ipaddr.IPv6, range: string): Embedded | undefined {
  const bytes = ip.toByteArray();
  const last32 = v4At(bytes, 12, 13, 14, 15);
  switch (range) {
    case 'ipv4Mapped': return { form: 'IPv4-mapped', addresses: [last32], reachesCarried: true };
    case 'rfc6145': return { form: 'IPv4-translated', addresses: [last32], reachesCarried: true };
    case '6to4': return { form: '6to4', addresses: [v4At(bytes, 2, 3, 4, 5)], reachesCarried: true };
    case 'teredo': {
      // RFC 4380: the server in bits 32-63, the client's public address inverted in the last 32.
      const client = new ipaddr.IPv4(bytes.slice(12, 16).map((b) => b ^ 0xff));
      return { form: 'Teredo', addresses: [v4At(bytes, 4, 5, 6, 7), client], reachesCarried: true };
    }
    case 'rfc6052':
      // The well-known 64:ff9b::/96 carries it in the last 32 bits. The local-use
      // 64:ff9b:1::/48 may use any RFC 6052 prefix length from /48 on, chosen by
      // the operator: the /96 reading names a refused address, but passing it proves nothing.
      return bytes[5] === 0
        ? { form: 'NAT64', addresses: [last32], reachesCarried: true }
        : { form: 'local-use NAT64', addresses: [last32], reachesCarried: false };
    default:
      // ::a.b.c.d (RFC 4291 IPv4-compatible, deprecated): first 96 bits zero; not global unicast either way.
      return bytes.slice(0, 12).every((b) => b === 0) ? { form: 'IPv4-compatible', addresses: [last32], reachesCarried: false } : undefined;
  }
}

/**
 * The reason a host that resolved to `addresses` may not be reached: any one
 * refused address refuses the host, so a name that mixes public and private
 * answers cannot win by the order the resolver returns them in.
 */
export function addressesRefusal(hostname: string, addresses: readonly LookupAddress[], allowed: readonly Network[]): string | undefined {
  if (addresses.length === 0) return `${hostname} does not resolve`;
  for (const { address } of addresses) {
    const reason = refusal(address, allowed);
    if (reason !== undefined) return `${hostname} resolves to ${address}: ${reason}`;
  }
  return undefined;
}

/**
 * The reason a webhook URL may not be saved, or undefined: not http(s), a host
 * that does not resolve, or one that resolves to any refused address. IP
 * literals are checked without a lookup. The connection is checked again when
 * it is made (./agent.ts), because DNS answers change.
 */
export async function vetUrl(url: string, allowed: readonly Network[], resolve: Resolver = systemResolver): Promise<string | undefined> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return 'not a valid URL';
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') return `scheme ${parsed.protocol} is not allowed; use http or https`;
  const host = parsed.hostname.startsWith('[') ? parsed.hostname.slice(1, -1) : parsed.hostname;
  if (host === '') return 'the URL has no host';
  if (isIP(host) !== 0) {
    const reason = refusal(host, allowed);
    return reason === undefined ? undefined : `${parsed.hostname}: ${reason}`;
  }
  let addresses: readonly LookupAddress[];
  try {
    addresses = await resolve(host);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    return `${host} does not resolve (${code})`;
  }
  return addressesRefusal(host, addresses, allowed);
}
