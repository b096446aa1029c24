import { describe, expect, it } from 'vitest';
import { storageFormatArgs } from '../../src/stack/kafka.ts';

describe('storageFormatArgs', () => {
  it('a cluster id starting with "-" stays the value of --cluster-id (argparse took it for an option and the stack did not start)', () => {
    expect(storageFormatArgs('-Rf0sDtLbUh5GM3PkXDCdA', '/x/server.properties')).toEqual(['format', '--cluster-id=-Rf0sDtLbUh5GM3PkXDCdA', '--config=/x/server.properties']);
  });
});
