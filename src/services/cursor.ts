/**
 * Opaque pagination cursors (Relay style): base64url of a small JSON value tagged with the list it
 * belongs to, so a cursor of one list is refused by another.
 */
import { ValidationError } from './errors';

/** Encodes `value` as a cursor of list `kind`. */
export function encodeCursor(kind: string, value: unknown): string {
  return Buffer.from(JSON.stringify([kind, value]), 'utf8').toString('base64url');
}

/**
 * Decodes a cursor of list `kind`.
 * @throws ValidationError (field `after`) when it is not a cursor of this list.
 */
export function decodeCursor(kind: string, cursor: string): unknown {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.length === 2 && v[0] === kind) return v[1];
  } catch {
    // fall through
  }
  throw new ValidationError('arguments', [
    {
      index: null,
      field: 'after',
      message: `after ${JSON.stringify(cursor.slice(0, 80))} is not a cursor of this list (use a cursor returned by it)`,
    },
  ]);
}
