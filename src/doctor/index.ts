/**
 * `sekisho doctor <url>`: checks an MCP deployment from outside, over HTTP only, the way real clients
 * meet it, and says per client what would break it and how to fix it. Pure HTTP client: it imports
 * nothing of the server (it must judge any deployment, including a misconfigured or foreign one).
 */
import { checkAuthorizationServer } from './checks/as-metadata.ts';
import { checkBrowserAccess } from './checks/browser.ts';
import { dryRun } from './checks/dry-run.ts';
import { checkEndpoint, checkScheme } from './checks/endpoint.ts';
import { checkClock, checkKeys } from './checks/keys.ts';
import { checkResourceMetadata } from './checks/resource-metadata.ts';
import type { CheckContext } from './context.ts';
import { type Finding, Findings, type Status } from './findings.ts';
import { type ConnectTo, DoctorHttp } from './http.ts';
import { judgeProfiles, type ProfileResult } from './profiles.ts';

export interface DoctorOptions {
  /** Whole run, in ms. */
  readonly timeoutMs: number;
  /** Per request, in ms (capped by what is left of the run). */
  readonly requestTimeoutMs?: number;
  readonly connectTo?: readonly ConnectTo[];
  /** Extra trusted CA certificates (PEM). */
  readonly extraCa?: string;
  /** Origin of the browser client whose CORS is checked. */
  readonly browserOrigin?: string;
  /** False: no registration, no authorization request. */
  readonly dryRun?: boolean;
}

export interface DoctorReport {
  readonly url: string;
  readonly checkedAt: string;
  readonly durationMs: number;
  readonly summary: Readonly<Record<Status, number>>;
  readonly findings: readonly Finding[];
  readonly profiles: readonly ProfileResult[];
  /** Things the run left behind or could not do, said plainly. */
  readonly notes: readonly string[];
}

/** The Inspector's web UI origin: the browser client most people point at a deployment. */
export const DEFAULT_BROWSER_ORIGIN = 'http://localhost:6274';

export async function runDoctor(target: string, opts: DoctorOptions): Promise<DoctorReport> {
  const started = Date.now();
  const url = new URL(target);
  const findings = new Findings();
  const ctx: CheckContext = {
    url,
    resource: target,
    http: new DoctorHttp({
      deadline: started + opts.timeoutMs,
      requestTimeoutMs: opts.requestTimeoutMs ?? Math.min(10_000, opts.timeoutMs),
      ...(opts.connectTo ? { connectTo: opts.connectTo } : {}),
      ...(opts.extraCa ? { extraCa: opts.extraCa } : {}),
    }),
    findings,
    learnt: { skews: [] },
    browserOrigin: opts.browserOrigin ?? DEFAULT_BROWSER_ORIGIN,
    dryRun: opts.dryRun ?? true,
  };
  const notes: string[] = [];

  checkScheme(ctx);
  if (await checkEndpoint(ctx)) {
    await checkResourceMetadata(ctx);
    await checkAuthorizationServer(ctx);
    if (ctx.learnt.prm) await checkBrowserAccess(ctx);
    await checkKeys(ctx);
    const dry = await dryRun(ctx);
    if (dry.registeredClientId)
      notes.push(
        `The dry run registered one client, "sekisho doctor (dry run; safe to remove)" (${dry.registeredClientId}); remove it with: sekisho clients remove ${dry.registeredClientId}`,
      );
  } else notes.push('The MCP endpoint could not be used, so nothing after it was checked.');
  checkClock(ctx);
  if (ctx.http.remaining() === 0)
    notes.push(
      `The run hit its time limit (${opts.timeoutMs / 1000} s); late checks may have failed for that reason.`,
    );

  const all = findings.all();
  const summary: Record<Status, number> = { pass: 0, warn: 0, fail: 0, skip: 0 };
  for (const f of all) summary[f.status] += 1;
  return {
    url: target,
    checkedAt: new Date(started).toISOString(),
    durationMs: Date.now() - started,
    summary,
    findings: all,
    profiles: judgeProfiles(findings),
    notes,
  };
}

/** Exit status: failures always fail; warnings too with --strict. */
export function reportFails(report: DoctorReport, strict: boolean): boolean {
  return report.summary.fail > 0 || (strict && report.summary.warn > 0);
}
