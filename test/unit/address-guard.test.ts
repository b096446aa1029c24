/**
 * The webhook SSRF guard as pure functions over address strings: nothing here
 * connects anywhere, and vetUrl gets a fake resolver instead of DNS.
 */
import { describe, expect, it } from 'vitest';
import type { LookupAddress } from 'node:dns';
import { parseNetworks, refusal, vetUrl, type Resolver } from '../../src/channels/webhook/address-guard.ts';

const none = parseNetworks('');

describe('refusal', () => {
  it.each([
    // [address, words the reason contains]
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['::1', 'loopback'],
    ['10.0.0.1', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['192.168.1.1', 'private'],
    ['169.254.1.1', 'link-local'],
    ['fe80::1', 'link-local'],
    ['fe80::1%eth0', 'scoped'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['ff02::1', 'multicast'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['::', 'unspecified'],
    ['255.255.255.255', 'broadcast'],
    ['192.0.2.1', 'reserved or documentation'],
    ['198.51.100.7', 'reserved or documentation'],
    ['203.0.113.9', 'reserved or documentation'],
    ['198.18.0.1', 'reserved'],
    ['240.0.0.1', 'reserved'],
    ['192.0.0.8', 'reserved'],
    ['2001:db8::1', 'reserved or documentation'],
    ['2001:2::1', 'benchmarking'],
    ['fc00::1', 'unique-local'],
    ['fd12:3456::1', 'unique-local'],
    ['fec0::1', 'deprecatedSiteLocal'],
    ['100::1', 'discard'],
    ['4000::1', 'outside the global unicast range'],
    ['169.254.169.254', 'cloud metadata'],
    ['fd00:ec2::254', 'cloud metadata'],
    ['fd20:ce::254', 'cloud metadata'],
    ['100.100.100.200', 'cloud metadata'],
    ['168.63.129.16', 'cloud metadata'],
    ['localhost', 'not an IP address'],
    ['127.1', 'not an IP address'],
    ['0x7f.0.0.1', 'not an IP address'],
  ])('refuses %s (%s)', (address, words) => {
    expect(refusal(address, none)).toContain(words);
  });

  it.each([
    // [address, the IPv4 address it carries, form, why that one is refused]
    ['::ffff:10.0.0.1', '10.0.0.1', 'IPv4-mapped', 'private'],
    ['::ffff:127.0.0.1', '127.0.0.1', 'IPv4-mapped', 'loopback'],
    ['::ffff:7f00:1', '127.0.0.1', 'IPv4-mapped', 'loopback'],
    ['::ffff:169.254.169.254', '169.254.169.254', 'IPv4-mapped', 'cloud metadata'],
    ['::ffff:0:a00:1', '10.0.0.1', 'IPv4-translated', 'private'],
    ['::127.0.0.1', '127.0.0.1', 'IPv4-compatible', 'loopback'],
    ['::c0a8:101', '192.168.1.1', 'IPv4-compatible', 'private'],
    ['64:ff9b::a9fe:a9fe', '169.254.169.254', 'NAT64', 'cloud metadata'],
    ['64:ff9b::7f00:1', '127.0.0.1', 'NAT64', 'loopback'],
    ['64:ff9b:1::a00:1', '10.0.0.1', 'local-use NAT64', 'private'],
    ['2002:7f00:1::', '127.0.0.1', '6to4', 'loopback'],
    ['2002:c0a8:101::1', '192.168.1.1', '6to4', 'private'],
    // Teredo: server 65.54.227.120, client 127.0.0.1 stored inverted (80ff:fffe).
    ['2001:0:4136:e378:8000:63bf:80ff:fffe', '127.0.0.1', 'Teredo', 'loopback'],
    ['2001:0:a00:1:8000:63bf:a2c7:3477', '10.0.0.1', 'Teredo', 'private'],
  ])('refuses %s, which carries %s (%s, %s)', (address, v4, form, words) => {
    const reason = refusal(address, none);
    expect(reason).toContain(`carries ${v4} (${form})`);
    expect(reason).toContain(words);
  });

  it.each([
    '93.184.216.34',
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700::1111',
    '2a00:1450:4001:80b::200e',
    // Forms that carry a public IPv4 address reach that address.
    '::ffff:93.184.216.34',
    '64:ff9b::5db8:d822',
    '2002:5db8:d822::1',
    '2001:0:4136:e378:8000:63bf:a247:27dd',
  ])('lets %s through', (address) => {
    expect(refusal(address, none)).toBeUndefined();
  });

  it('refuses IPv4-compatible forms even of public addresses: they are deprecated and not global unicast', () => {
    expect(refusal('::5db8:d822', none)).toContain('outside the global unicast range');
  });

  it('reads ::a.b.c.d as a socket does (IPv4-compatible), not as IPv4-mapped like ipaddr.js', () => {
    expect(refusal('::93.184.216.34', none)).toContain('outside the global unicast range');
    expect(refusal('::ffff:93.184.216.34', none)).toBeUndefined();
  });

  it('refuses local-use NAT64 addresses even when the /96 reading is public: the translator picks the prefix length', () => {
    expect(refusal('64:ff9b:1::5db8:d822', none)).toContain('local-use NAT64');
    expect(refusal('64:ff9b:1::5db8:d822', parseNetworks('64:ff9b:1::/48'))).toBeUndefined();
  });

  it('lets an allowed network through although its range is refused', () => {
    const allowed = parseNetworks('127.0.0.2/32, 10.1.0.0/16, fd00::/8');
    expect(refusal('127.0.0.2', allowed)).toBeUndefined();
    expect(refusal('127.0.0.1', allowed)).toContain('loopback');
    expect(refusal('10.1.2.3', allowed)).toBeUndefined();
    expect(refusal('10.2.0.1', allowed)).toContain('private');
    expect(refusal('fd12::1', allowed)).toBeUndefined();
    expect(refusal('fc00::1', allowed)).toContain('unique-local');
    // The IPv4 address a mapped form carries is what gets compared.
    expect(refusal('::ffff:127.0.0.2', allowed)).toBeUndefined();
    expect(refusal('::ffff:127.0.0.1', allowed)).toContain('loopback');
  });

  it('refuses cloud metadata endpoints inside allowed networks', () => {
    const allowed = parseNetworks('169.254.0.0/16,fd00::/8,0.0.0.0/0');
    expect(refusal('169.254.169.254', allowed)).toContain('cloud metadata');
    expect(refusal('fd00:ec2::254', allowed)).toContain('cloud metadata');
    expect(refusal('::ffff:169.254.169.254', allowed)).toContain('cloud metadata');
    expect(refusal('169.254.1.1', allowed)).toBeUndefined();
  });
});

describe('parseNetworks', () => {
  it('reads IPv4 and IPv6 networks and bare addresses', () => {
    expect(parseNetworks('127.0.0.2/32,fd00::/8, 10.0.0.0/8 ,::1').map((n) => n.cidr))
      .toEqual(['127.0.0.2/32', 'fd00::/8', '10.0.0.0/8', '::1/128']);
  });

  it('reads an empty list as no networks', () => {
    expect(parseNetworks('')).toEqual([]);
    expect(parseNetworks(' , ')).toEqual([]);
  });

  it('names every bad entry', () => {
    const parse = () => parseNetworks('10.0.0.0/8,nope,10.0.0.0/33,fd00::/129,127.1/32,1.2.3.4/8/9,1.2.3.4/x,fe80::1%eth0/64');
    expect(parse).toThrow(TypeError);
    expect(parse).toThrow(/"nope" \(not an IP address\)/);
    expect(parse).toThrow(/"10\.0\.0\.0\/33" \(the prefix length must be 0-32\)/);
    expect(parse).toThrow(/"fd00::\/129" \(the prefix length must be 0-128\)/);
    expect(parse).toThrow(/"127\.1\/32" \(not an IP address\)/);
    expect(parse).toThrow(/"1\.2\.3\.4\/8\/9" \(more than one "\/"\)/);
    expect(parse).toThrow(/"1\.2\.3\.4\/x" \(the prefix length is not a number\)/);
    expect(parse).toThrow(/"fe80::1%eth0\/64" \(a zone index/);
    expect(parse).not.toThrow(/"10\.0\.0\.0\/8"/);
  });
});

describe('vetUrl', () => {
  const hosts: Record<string, LookupAddress[]> = {
    'public.test': [{ address: '93.184.216.34', family: 4 }, { address: '2606:4700::1111', family: 6 }],
    'mixed.test': [{ address: '93.184.216.34', family: 4 }, { address: '10.0.0.7', family: 4 }],
    'internal.test': [{ address: '192.168.0.10', family: 4 }],
    'empty.test': [],
  };
  const lookups: string[] = [];
  const resolve: Resolver = async (hostname) => {
    lookups.push(hostname);
    const found = hosts[hostname];
    if (found === undefined) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    return found;
  };

  it('lets a name that resolves only to public addresses through', async () => {
    expect(await vetUrl('https://public.test/hook', none, resolve)).toBeUndefined();
    expect(await vetUrl('http://public.test:8080/hook?x=1', none, resolve)).toBeUndefined();
  });

  it('refuses a name when any address it resolves to is refused, naming host and address', async () => {
    const reason = await vetUrl('https://mixed.test/hook', none, resolve);
    expect(reason).toContain('mixed.test resolves to 10.0.0.7');
    expect(reason).toContain('private');
    expect(await vetUrl('https://internal.test/', none, resolve)).toContain('internal.test resolves to 192.168.0.10');
  });

  it('lets a name through that resolves into an allowed network', async () => {
    expect(await vetUrl('https://internal.test/', parseNetworks('192.168.0.0/24'), resolve)).toBeUndefined();
  });

  it('refuses a name that does not resolve', async () => {
    expect(await vetUrl('https://nowhere.test/', none, resolve)).toBe('nowhere.test does not resolve (ENOTFOUND)');
    expect(await vetUrl('https://empty.test/', none, resolve)).toBe('empty.test does not resolve');
  });

  it('checks IP literals without a lookup', async () => {
    lookups.length = 0;
    expect(await vetUrl('http://127.0.0.1:8080/', none, resolve)).toContain('loopback');
    expect(await vetUrl('http://[::1]/', none, resolve)).toContain('loopback');
    expect(await vetUrl('http://[::ffff:10.0.0.1]/', none, resolve)).toContain('private');
    expect(await vetUrl('http://[fd00:ec2::254]/', none, resolve)).toContain('cloud metadata');
    expect(await vetUrl('http://93.184.216.34/', none, resolve)).toBeUndefined();
    expect(await vetUrl('http://[2606:4700::1111]/', none, resolve)).toBeUndefined();
    // The URL parser turns these into 127.0.0.1 and 169.254.169.254 before the guard sees them.
    expect(await vetUrl('http://2130706433/', none, resolve)).toContain('loopback');
    expect(await vetUrl('http://0xa9.254.169.254/', none, resolve)).toContain('cloud metadata');
    expect(lookups).toEqual([]);
  });

  it('refuses schemes other than http and https, and what is not a URL', async () => {
    expect(await vetUrl('ftp://public.test/', none, resolve)).toContain('scheme ftp: is not allowed');
    expect(await vetUrl('file:///etc/passwd', none, resolve)).toContain('scheme file: is not allowed');
    expect(await vetUrl('gopher://public.test/', none, resolve)).toContain('not allowed');
    expect(await vetUrl('not a url', none, resolve)).toBe('not a valid URL');
  });
});
