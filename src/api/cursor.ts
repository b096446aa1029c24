/** Opaque pagination cursors: base64url of "<ISO time>|<uuid>". */
import { ValidationError } from '../errors.ts';

export function encodeCursor(at: Date, id: string): string {
  return Buffer.from(`${at.toISOString()}|${id}`).toString('base64url');
}

/** @throws ValidationError when the cursor was not made by encodeCursor */
export function decodeCursor(cursor: string | undefined): { at: Date; id: string } | undefined {
  if (cursor === undefined) return undefined;
  const [iso, id] = Buffer.from(cursor, 'base64url').toString('utf8').split('|');
  const at = new Date(iso ?? '');
  if (!id || Number.isNaN(at.getTime()) || !/^[0-9a-f-]{36}$/i.test(id)) throw new ValidationError(['cursor: not a cursor from this API']);
  return { at, id };
}
