/**
 * Where a new password comes from. Never argv by default: argv is visible to every local user (ps,
 * /proc) and lands in shell history. `--password-stdin` reads it from a pipe; a terminal gets a
 * no-echo prompt (asked twice); `--password` works, for scripts and tests, with a warning.
 */

import { UsageError } from './errors.ts';
import type { Output } from './output.ts';

export interface PasswordSource {
  readonly stdin: boolean;
  readonly inline: string | undefined;
}

export async function readNewPassword(source: PasswordSource, io: Output): Promise<string> {
  if (source.stdin && source.inline !== undefined) {
    throw new UsageError('use either --password-stdin or --password, not both');
  }
  if (source.inline !== undefined) {
    io.err(
      'warning: --password exposes the password to other local users and shell history; prefer --password-stdin',
    );
    return source.inline;
  }
  if (source.stdin) return readStdinPassword();
  if (!process.stdin.isTTY) {
    throw new UsageError(
      'no password given: pipe it with --password-stdin, or run in a terminal to be prompted',
    );
  }
  const first = await promptHidden('New password: ');
  const second = await promptHidden('Repeat password: ');
  if (first !== second) throw new UsageError('the passwords did not match');
  return first;
}

async function readStdinPassword(): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    size += buf.length;
    if (size > 4096) throw new UsageError('the password on stdin is too long');
    chunks.push(buf);
  }
  // One trailing newline is what `echo` and here-strings add; it is not part of the password.
  const text = Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
  if (text === '') throw new UsageError('--password-stdin: stdin was empty');
  return text;
}

function promptHidden(question: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const stdin = process.stdin;
    process.stderr.write(question);
    stdin.setRawMode(true);
    stdin.resume();
    stdin.setEncoding('utf8');
    let value = '';
    const done = (error?: Error) => {
      stdin.setRawMode(false);
      stdin.pause();
      stdin.off('data', onData);
      process.stderr.write('\n');
      if (error) reject(error);
      else resolve(value);
    };
    const onData = (data: string) => {
      for (const ch of data) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003') return done(new UsageError('cancelled'));
        if (ch === '\u007f' || ch === '\b') value = value.slice(0, -1);
        else if (ch >= ' ') value += ch;
      }
    };
    stdin.on('data', onData);
  });
}
