import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CATALOGUE } from '../../src/model/catalogue.ts';

describe('README', () => {
  it('the Notification types table lists every catalogue type with its category, channels, mandatory and audited flags', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const rows = new Map([...readme.matchAll(/^\| `([a-z_]+)` \| (\w+) \| ([a-z_, ]+) \| (yes)? \| (yes)? \|/gm)].map((m) => [m[1], m.slice(2, 6)]));
    for (const [type, info] of Object.entries(CATALOGUE)) {
      const channels = Object.entries(info.defaults).filter(([, on]) => on).map(([k]) => k).join(', ') || 'none';
      expect(rows.get(type), type).toEqual([info.category, channels, info.mandatory ? 'yes' : undefined, info.audited ? 'yes' : undefined]);
    }
    expect([...rows.keys()].filter((type) => type === undefined || !Object.hasOwn(CATALOGUE, type))).toEqual([]);
  });
});
