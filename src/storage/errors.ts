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

/**
 * The database cannot answer right now (connection refused or lost, a timeout, the server shutting
 * down or out of connections). Transient by nature: the HTTP edge answers 503 with `Retry-After`
 * (`http/errors.ts`; oidc-provider's routes in `oauth/provider.ts`), `/readyz` reports it, and the
 * backend reconnects by itself. The message never carries connection secrets.
 */
export class StorageUnavailableError extends Error {
  override readonly name = 'StorageUnavailableError';
  /** What clients are told to wait before retrying (seconds). */
  static readonly retryAfterSeconds = 5;
}

/**
 * Storage cannot be opened for a reason retrying will not fix (wrong password, no such database, a
 * file that cannot be created). `main.ts` prints the message and exits 1, without a stack trace.
 */
export class StorageOpenError extends Error {
  override readonly name = 'StorageOpenError';
}
