/** The doctor's report for people: grouped findings with ✔ / ✖ / ! / -, a fix under each problem, then clients. */
import { GROUP_TITLES, type Group, type Status } from './findings.ts';
import type { DoctorReport } from './index.ts';

const MARK: Readonly<Record<Status, string>> = { pass: '✔', fail: '✖', warn: '!', skip: '-' };
const PROFILE_MARK = { ok: '✔', 'at-risk': '!', broken: '✖' } as const;

export function renderReport(report: DoctorReport): string {
  const lines: string[] = [`sekisho doctor ${report.url}`, ''];
  const groups = [...new Set(report.findings.map((f) => f.group))] as Group[];
  for (const group of groups) {
    lines.push(GROUP_TITLES[group]);
    for (const f of report.findings.filter((x) => x.group === group)) {
      lines.push(`  ${MARK[f.status]} ${f.title}${f.detail ? ` — ${f.detail}` : ''}`);
      if (f.fix && (f.status === 'fail' || f.status === 'warn')) lines.push(`      how to fix: ${f.fix}`);
    }
    lines.push('');
  }
  lines.push('Clients');
  for (const p of report.profiles) {
    lines.push(
      `  ${PROFILE_MARK[p.status]} ${p.name}${p.status === 'ok' ? '' : p.status === 'broken' ? ': will not work' : ': may not work'}`,
    );
    for (const b of p.blockers) {
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
  return lines.join('\n');
}
