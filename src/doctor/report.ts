/**
 * The doctor's report for people: grouped findings with ✔ / ✖ / ! / -, a fix under each problem,
 * then the clients. Clients stopped by the same findings for the same reasons share one entry, so a
 * single misconfiguration does not print the same fix seven times.
 */
import { oneLine } from './context.ts';
import { GROUP_TITLES, type Group, type Status } from './findings.ts';
import type { DoctorReport } from './index.ts';
import type { ProfileResult } from './profiles.ts';

const MARK: Readonly<Record<Status, string>> = { pass: '✔', fail: '✖', warn: '!', skip: '-' };
const PROFILE_MARK = { ok: '✔', 'at-risk': '!', broken: '✖' } as const;
const PROFILE_VERDICT = { ok: '', 'at-risk': ': may not work', broken: ': will not work' } as const;

export function renderReport(report: DoctorReport): string {
  return renderLines(report).map(oneLine).join('\n');
}

/**
 * The report's lines. Every value that came from the server (issuers, endpoints, client ids, error
 * descriptions) goes through `oneLine` in renderReport, whether or not a check already cleaned it.
 */
function renderLines(report: DoctorReport): string[] {
  const lines: string[] = [`sekisho doctor ${report.url}`, ''];
  const groups = [...new Set(report.findings.map((f) => f.group))] as Group[];
  for (const group of groups) {
    lines.push(GROUP_TITLES[group]);
    for (const f of report.findings.filter((x) => x.group === group)) {
      const problem = f.status === 'fail' || f.status === 'warn';
      lines.push(
        `  ${MARK[f.status]} ${f.title}${f.detail ? ` — ${f.detail}` : ''}${problem ? ` [${f.id}]` : ''}`,
      );
      if (f.fix && problem) lines.push(`      how to fix: ${f.fix}`);
    }
    lines.push('');
  }
  lines.push('Clients');
  for (const group of groupProfiles(report.profiles)) {
    const first = group[0] as ProfileResult;
    lines.push(
      `  ${PROFILE_MARK[first.status]} ${group.map((p) => p.name).join(', ')}${PROFILE_VERDICT[first.status]}`,
    );
    for (const b of first.blockers) {
      lines.push(`      ${MARK[b.status]} ${b.why} [${b.finding}]`);
      if (b.fix) lines.push(`        how to fix: ${b.fix}`);
    }
  }
  lines.push('');
  for (const note of report.notes) lines.push(`Note: ${note}`);
  const { pass, warn, fail, skip } = report.summary;
  lines.push(
    `${fail} failed, ${warn} warnings, ${pass} passed, ${skip} skipped in ${(report.durationMs / 1000).toFixed(1)} s`,
  );
  return lines;
}

/** Profiles with the same verdict and the same blockers (finding and reason), in first-seen order. */
function groupProfiles(profiles: readonly ProfileResult[]): ProfileResult[][] {
  const groups = new Map<string, ProfileResult[]>();
  for (const p of profiles) {
    const key = JSON.stringify([p.status, p.blockers.map((b) => [b.finding, b.why])]);
    groups.set(key, [...(groups.get(key) ?? []), p]);
  }
  return [...groups.values()];
}
