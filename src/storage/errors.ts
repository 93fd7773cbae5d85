/** Typed storage errors, so callers can map them to clear messages without knowing the backend. */

/** A unique key (user id, username, key id) is already taken. */
export class DuplicateError extends Error {
  override readonly name = 'DuplicateError';
  readonly field: string;
  constructor(field: string, message = `${field} already exists`) {
    super(message);
    this.field = field;
  }
}

/** The database was written by a newer Sekisho than this one (refuse rather than corrupt it). */
export class SchemaVersionError extends Error {
  override readonly name = 'SchemaVersionError';
}
