/**
 * The fuzz engine: generates `requests` requests from `seed` (the same seed gives the same sequence),
 * sends them with bounded concurrency to both targets, and reports every answer ≥ 500, every request
 * that got no answer (a reset or a timeout instead of a status), every error-level log line, and
 * whether the servers are healthy afterwards — `/healthz` and a real authenticated `tools/call`
 * through a fresh OAuth sign-in.
 */
import { Agent, request as httpRequest } from 'node:http';
import { connect } from 'node:net';
import { modernPost } from '../../helpers/mcp-http.ts';
import { Rng } from './random.ts';
import { type FuzzRequest, nextRequest } from './requests.ts';
import { type FuzzTarget, type LogLine, startTarget } from './target.ts';

export interface FuzzOptions {
  readonly seed: number;
  readonly requests: number;
  readonly concurrency?: number;
  /** Called every `progressEvery` requests (for the CLI). */
  readonly onProgress?: (done: number, report: FuzzReport) => void;
  readonly progressEvery?: number;
  /** Called at once for every answer ≥ 500 and every request without an answer. */
  readonly onFailure?: (sample: Sample) => void;
}

export interface Sample {
  readonly target: string;
  readonly surface: string;
  readonly method: string;
  readonly path: string;
  readonly status?: number;
  readonly error?: string;
  readonly answer?: string;
}

export interface FuzzReport {
  seed: number;
  requests: number;
  durationMs: number;
  byStatus: Record<string, number>;
  bySurface: Record<string, number>;
  serverErrors: Sample[];
  /** Non-raw requests that got a reset or a timeout instead of an answer. */
  noAnswer: Sample[];
  /** Malformed-HTTP requests the server closed without answering (HTTP itself allows it). */
  rawSilent: number;
  errorLogLines: LogLine[];
  healthyAfter: boolean;
  healthProblems: string[];
}

const TIMEOUT_MS = 30_000;
/** Fuzz traffic comes from another loopback address than the set-up and the health check. */
const FUZZ_ADDRESS = '127.0.0.2';
const RAW_TIMEOUT_MS = 10_000;

export async function runFuzz(opts: FuzzOptions): Promise<FuzzReport> {
  const targets = await Promise.all([
    startTarget('anonymous', { SEKISHO_ANONYMOUS: '1' }),
    // Server DPoP nonces on here, so the fuzzed DPoP headers meet that path too.
    startTarget('token-only', { SEKISHO_DPOP_NONCES: '1' }),
  ]);
  const report: FuzzReport = {
    seed: opts.seed,
    requests: 0,
    durationMs: 0,
    byStatus: {},
    bySurface: {},
    serverErrors: [],
    noAnswer: [],
    rawSilent: 0,
    errorLogLines: [],
    healthyAfter: false,
    healthProblems: [],
  };
  const agents = targets.map(
    () => new Agent({ keepAlive: true, maxSockets: 64, localAddress: FUZZ_ADDRESS }),
  );
  const rng = new Rng(opts.seed);
  const started = Date.now();
  try {
    let issued = 0;
    const worker = async () => {
      while (issued < opts.requests) {
        issued++;
        // Generated synchronously in issue order, so the sequence depends on the seed alone.
        const which = rng.int(0, targets.length - 1);
        const target = targets[which]!;
        const req = nextRequest(rng, target.credentials);
        const outcome = await send(target, agents[which]!, req);
        const failure = record(report, target, req, outcome);
        if (failure) opts.onFailure?.(failure);
        if (opts.onProgress && report.requests % (opts.progressEvery ?? 10_000) === 0) {
          report.durationMs = Date.now() - started;
          opts.onProgress(report.requests, report);
        }
      }
    };
    await Promise.all(Array.from({ length: opts.concurrency ?? 8 }, worker));
    report.durationMs = Date.now() - started;
    for (const target of targets) {
      report.healthProblems.push(...(await healthProblems(target)));
      report.errorLogLines.push(...target.lines.filter((l) => l.level >= 50));
    }
    report.healthyAfter = report.healthProblems.length === 0;
    return report;
  } finally {
    for (const agent of agents) agent.destroy();
    await Promise.all(targets.map((t) => t.srv.close()));
    await Promise.all(targets.map((t) => t.upstream.close()));
  }
}

interface Outcome {
  status?: number;
  error?: string;
  answer?: string;
  /** Reset before any answer on a reused keep-alive socket. */
  retry?: boolean;
}

/** Counts the outcome; returns the sample when it is a failure. */
function record(
  report: FuzzReport,
  target: FuzzTarget,
  req: FuzzRequest,
  outcome: Outcome,
): Sample | undefined {
  report.requests++;
  report.bySurface[req.surface] = (report.bySurface[req.surface] ?? 0) + 1;
  const key = outcome.status !== undefined ? String(outcome.status) : req.raw ? 'raw-silent' : 'no-answer';
  report.byStatus[key] = (report.byStatus[key] ?? 0) + 1;
  const sample: Sample = {
    target: target.name,
    surface: req.surface,
    method: req.method,
    path: req.raw ? JSON.stringify(req.raw.toString('latin1').slice(0, 120)) : req.path.slice(0, 200),
    ...outcome,
  };
  if (outcome.status !== undefined && outcome.status >= 500) report.serverErrors.push(sample);
  else if (outcome.status === undefined && req.raw) {
    report.rawSilent++;
    return undefined;
  } else if (outcome.status === undefined) report.noAnswer.push(sample);
  else return undefined;
  return sample;
}

async function send(target: FuzzTarget, agent: Agent, req: FuzzRequest): Promise<Outcome> {
  if (req.raw) return sendRaw(target.srv.port, req.raw);
  const outcome = await sendHttp(target.srv.port, agent, req);
  // The keep-alive race every HTTP client must handle (Node's documentation: retry when a reused
  // socket resets): the server closed an idle connection just as the request went out on it. The
  // server never saw the request, so it is sent again, once, on a connection of its own.
  return outcome.retry ? sendHttp(target.srv.port, false, req) : outcome;
}

/** Methods for which node:http sends a body without framing unless told: give them a length. */
const UNFRAMED = new Set(['GET', 'HEAD', 'DELETE', 'OPTIONS', 'TRACE', 'CONNECT']);

function sendHttp(port: number, agent: Agent | false, req: FuzzRequest): Promise<Outcome> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = { ...req.headers };
    if (req.body && req.chunked) headers['transfer-encoding'] = 'chunked';
    else if (req.body) headers['content-length'] = String(req.body.length);
    else if (!UNFRAMED.has(req.method.toUpperCase())) headers['content-length'] = '0';
    let settled = false;
    const done = (o: Outcome) => {
      if (!settled) {
        settled = true;
        resolve(o);
      }
    };
    let r: ReturnType<typeof httpRequest>;
    try {
      r = httpRequest(
        {
          host: '127.0.0.1',
          port,
          method: req.method,
          path: req.path,
          headers,
          agent,
          localAddress: FUZZ_ADDRESS,
          timeout: TIMEOUT_MS,
        },
        (res) => {
          // A session's GET stream stays open by design: its status is the answer.
          if (req.method === 'GET' && String(res.headers['content-type']).startsWith('text/event-stream')) {
            done({ status: res.statusCode });
            r.destroy();
            return;
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (chunk: Buffer) => {
            if (size < 400) chunks.push(chunk);
            size += chunk.length;
          });
          res.on('error', () => done({ status: res.statusCode }));
          res.on('end', () =>
            done({ status: res.statusCode, answer: Buffer.concat(chunks).toString('utf8').slice(0, 400) }),
          );
        },
      );
    } catch (error) {
      // node:http refused to send it (an invalid header or path): not the server's business.
      done({ status: 0, error: (error as Error).message });
      return;
    }
    r.on('timeout', () => r.destroy(new Error('timeout')));
    r.on('error', (error: NodeJS.ErrnoException) =>
      done({ error: error.code ?? error.message, retry: r.reusedSocket && error.code === 'ECONNRESET' }),
    );
    if (req.body && req.chunked) {
      const half = Math.floor(req.body.length / 2);
      r.write(req.body.subarray(0, half));
      r.end(req.body.subarray(half));
    } else r.end(req.body);
  });
}

function sendRaw(port: number, bytes: Buffer): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: '127.0.0.1', localAddress: FUZZ_ADDRESS });
    let got = '';
    const finish = () => {
      clearTimeout(timer);
      socket.destroy();
      const status = /^HTTP\/1\.[01] (\d{3})/.exec(got)?.[1];
      resolve(
        status
          ? { status: Number(status), answer: got.slice(0, 200) }
          : { error: 'closed without an answer' },
      );
    };
    const timer = setTimeout(finish, RAW_TIMEOUT_MS);
    socket.on('data', (d: Buffer) => {
      got += d.toString('latin1');
      if (/\r\n\r\n/.test(got)) finish();
    });
    socket.on('error', finish);
    socket.on('close', finish);
    socket.write(bytes);
  });
}

async function healthProblems(target: FuzzTarget): Promise<string[]> {
  const problems: string[] = [];
  const { srv } = target;
  const health = await fetch(`${srv.url}/healthz`);
  if (health.status !== 200) problems.push(`${target.name}: /healthz answered ${health.status}`);
  // A real token from the authorization server, minted in process: a sign-in through the pages
  // could be (rightly) throttled by the fuzzer's wrong passwords.
  const user = await srv.sekisho.identity.findByUsername(target.healthUser.username);
  const { accessToken } = await srv.sekisho.authorizationServer!.issueAccessToken({
    accountId: user!.id,
    clientId: target.healthClient.client_id,
  });
  const call = await modernPost(
    srv.mcpUrl,
    'tools/call',
    { name: 'user_profile', arguments: {} },
    { headers: { authorization: `Bearer ${accessToken}` } },
  );
  const text = JSON.stringify(call.body?.result ?? call.body);
  if (call.status !== 200 || !text.includes(target.healthUser.username)) {
    problems.push(`${target.name}: authenticated tools/call answered ${call.status} ${text.slice(0, 200)}`);
  }
  return problems;
}

/** A short human summary (the CLI prints it; the test prints it on failure). */
export function summarize(r: FuzzReport): string {
  const statuses = Object.entries(r.byStatus)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([s, n]) => `${s}:${n}`)
    .join(' ');
  const lines = [
    `seed ${r.seed}: ${r.requests} requests in ${(r.durationMs / 1000).toFixed(1)} s (${Math.round((r.requests * 1000) / Math.max(1, r.durationMs))}/s)`,
    `statuses ${statuses}`,
    `answers >= 500: ${r.serverErrors.length}; no answer: ${r.noAnswer.length}; raw requests closed unanswered: ${r.rawSilent}; error log lines: ${r.errorLogLines.length}`,
    `healthy afterwards: ${r.healthyAfter ? 'yes' : `NO — ${r.healthProblems.join('; ')}`}`,
  ];
  for (const s of [...r.serverErrors, ...r.noAnswer].slice(0, 10)) lines.push(`  ${JSON.stringify(s)}`);
  for (const l of r.errorLogLines.slice(0, 5)) lines.push(`  log: ${JSON.stringify(l).slice(0, 400)}`);
  return lines.join('\n');
}
