/** How the CLI fails: a message for stderr and an exit code (2 usage, 1 operational failure). */
import { IdentityError } from '../identity/validation.ts';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

export class CliError extends Error {
  override readonly name = 'CliError';
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT_FAILURE) {
    super(message);
    this.exitCode = exitCode;
  }
}

export class UsageError extends CliError {
  constructor(message: string) {
    super(message, EXIT_USAGE);
  }
}

/** Bad input (a malformed username, a short password) is a usage error; missing things are failures. */
export function fromIdentityError(error: IdentityError): CliError {
  const usage = error.code.startsWith('invalid_') || error.code === 'weak_password';
  return new CliError(error.message, usage ? EXIT_USAGE : EXIT_FAILURE);
}

export function toCliError(error: unknown): CliError | undefined {
  if (error instanceof CliError) return error;
  if (error instanceof IdentityError) return fromIdentityError(error);
  return undefined;
}
