/** What a username, display name, email and password may be. One place, shared by UI, CLI and seeding. */
import type { Role } from '../access/scopes.ts';
import { passwordTooLong } from './password.ts';

export type IdentityErrorCode =
  | 'invalid_username'
  | 'invalid_name'
  | 'invalid_email'
  | 'invalid_role'
  | 'weak_password'
  | 'duplicate_username'
  | 'not_found';

/** A refused identity operation; `code` is stable for callers (the CLI maps it to an exit code). */
export class IdentityError extends Error {
  override readonly name = 'IdentityError';
  readonly code: IdentityErrorCode;
  constructor(code: IdentityErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

const USERNAME = /^[a-z0-9._-]{1,64}$/;

/** Trim and lower-case; undefined when the result is not 1–64 characters of [a-z0-9._-]. */
export function normaliseUsername(input: string): string | undefined {
  const value = input.trim().toLowerCase();
  return USERNAME.test(value) ? value : undefined;
}

export function requireUsername(input: string): string {
  const value = normaliseUsername(input);
  if (!value) {
    throw new IdentityError(
      'invalid_username',
      'username must be 1–64 characters of a-z, 0-9, ".", "_" or "-"',
    );
  }
  return value;
}

export function requireName(input: string): string {
  const value = input.trim();
  // biome-ignore lint/suspicious/noControlCharactersInRegex: rejecting control characters is the point
  if (value.length < 1 || value.length > 100 || /[\u0000-\u001f\u007f]/.test(value)) {
    throw new IdentityError(
      'invalid_name',
      'display name must be 1–100 characters without control characters',
    );
  }
  return value;
}

/** Light check (something@domain.tld, ≤254 chars); empty means "no email". */
export function requireEmail(input: string): string {
  const value = input.trim();
  if (value === '') return '';
  if (value.length > 254 || !/^[^\s@]+@[^\s@]+\.[^\s@.]+$/.test(value)) {
    throw new IdentityError('invalid_email', `not an email address: ${JSON.stringify(value.slice(0, 80))}`);
  }
  return value;
}

export function requireRole(input: string): Role {
  if (input !== 'admin' && input !== 'user') {
    throw new IdentityError('invalid_role', 'role must be "admin" or "user"');
  }
  return input;
}

export const MIN_PASSWORD_LENGTH = 8;

/** NIST SP 800-63B: at least 8 characters, long passphrases allowed (up to the hashing bound). */
export function requirePassword(password: string): string {
  if ([...password.normalize('NFKC')].length < MIN_PASSWORD_LENGTH) {
    throw new IdentityError('weak_password', `password must be at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (passwordTooLong(password)) throw new IdentityError('weak_password', 'password is too long');
  return password;
}
