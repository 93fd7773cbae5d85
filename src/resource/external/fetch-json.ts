/**
 * Every HTTP request Sekisho makes to an external authorization server goes through here, bounded
 * three ways: a time limit (the whole exchange, body included), a size limit on the answer (a
 * hostile or broken server cannot make us buffer megabytes), and no redirects (a metadata or
 * introspection URL that moves is a configuration change, not something to follow silently).
 *
 * Failures to talk at all — refused connection, timeout, oversized or non-JSON body — become
 * `ExternalIssuerUnavailableError`; the HTTP status is returned for the caller to judge.
 */
import { ExternalIssuerUnavailableError } from './errors.ts';

export interface FetchJsonOptions {
  readonly timeoutMs: number;
  /** Largest accepted answer in bytes. */
  readonly maxBytes: number;
  readonly method?: 'GET' | 'POST';
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string;
}

export interface JsonAnswer {
  readonly status: number;
  /** The parsed body; undefined when the status is not 2xx and the body was not JSON. */
  readonly body: unknown;
}

/** 256 KiB: metadata documents, key sets and introspection answers are a few KiB at most. */
export const MAX_ANSWER_BYTES = 256 * 1024;

export async function fetchJson(url: string, opts: FetchJsonOptions): Promise<JsonAnswer> {
  const signal = AbortSignal.timeout(opts.timeoutMs);
  const where = new URL(url).host;
  let res: Response;
  try {
    res = await fetch(url, {
      method: opts.method ?? 'GET',
      headers: { accept: 'application/json', ...opts.headers },
      body: opts.body,
      redirect: 'manual',
      signal,
    });
  } catch (error) {
    throw new ExternalIssuerUnavailableError(
      `${where} did not answer (${timedOut(error) ? `no answer within ${opts.timeoutMs} ms` : 'connection failed'})`,
    );
  }
  const text = await readLimited(res, opts.maxBytes, where, opts.timeoutMs);
  if (res.status >= 300 && res.status < 400) {
    throw new ExternalIssuerUnavailableError(
      `${where} answered a redirect (${res.status}); redirects are not followed`,
    );
  }
  try {
    return { status: res.status, body: JSON.parse(text) };
  } catch {
    if (res.ok)
      throw new ExternalIssuerUnavailableError(
        `${where} answered ${res.status} with a body that is not JSON`,
      );
    return { status: res.status, body: undefined };
  }
}

async function readLimited(
  res: Response,
  maxBytes: number,
  where: string,
  timeoutMs: number,
): Promise<string> {
  const declared = Number(res.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    await res.body?.cancel();
    throw new ExternalIssuerUnavailableError(`${where} answered more than ${maxBytes} bytes`);
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) {
        await reader.cancel();
        throw new ExternalIssuerUnavailableError(`${where} answered more than ${maxBytes} bytes`);
      }
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof ExternalIssuerUnavailableError) throw error;
    throw new ExternalIssuerUnavailableError(
      `${where} did not finish its answer (${timedOut(error) ? `within ${timeoutMs} ms` : 'connection lost'})`,
    );
  }
  return Buffer.concat(chunks).toString('utf8');
}

function timedOut(error: unknown): boolean {
  const name = (error as { name?: string } | undefined)?.name;
  return name === 'TimeoutError' || name === 'AbortError';
}
