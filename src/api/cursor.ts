/** Opaque pagination cursors: base64url of "<ISO time>|<uuid>". */
import { ValidationError } from '../errors.ts';

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`).toString('base64url');
}

/** @throws ValidationError when the cursor was not made by encodeCursor */
export function decodeCursor(cursor: string | undefined): { at: Date; id: string } | undefined {
  if (cursor === undefined) return undefined;
  const [iso = '', id = ''] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const at = new Date(iso);
  // Exactly what encodeCursor writes: a four-digit year keeps the time within Postgres's range, and the id must be a UUID Postgres takes.
  if (!ISO_TIME.test(iso) || Number.isNaN(at.getTime()) || !UUID.test(id)) throw new ValidationError(['cursor: not a cursor from this API']);
  return { at, id };
}
