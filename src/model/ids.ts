/** Stable ids: the same name always yields the same UUID, so replays reproduce ids. */
import { createHash } from 'node:crypto';
import { parse as parseUuid } from 'uuid';

/** UUIDv5 namespace of Tidings' stable ids. */
export const TIDINGS_NAMESPACE = '8f6b2c1e-3d4a-5b6c-9d8e-7f6a5b4c3d2e';
const NAMESPACE_BYTES = Buffer.from(parseUuid(TIDINGS_NAMESPACE));

/**
 * The UUIDv5 (RFC 9562: SHA-1 of the namespace and the name's UTF-8 bytes)
 * of `name` in TIDINGS_NAMESPACE: what uuid's v5(name, TIDINGS_NAMESPACE)
 * gives, without parsing the namespace and converting the name through
 * byte arrays on every call (dedupe names every accepted event).
 */
export function stableId(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE_BYTES).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.toString('hex', 0, 16);
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}
