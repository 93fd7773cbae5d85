/**
 * Prometheus metrics: process defaults, one request histogram labelled by route *pattern* (never the
 * raw path, which would let clients mint unbounded label values) and status class, and the security
 * counters. Each Sekisho instance owns its registry, so tests running several servers in one process
 * don't clash.
 *
 * Security counters are fed from the audit log's one emit point (`observeAudit`), so a metric and
 * its audit record can never disagree; only what is not an audit event — a refused token at /mcp, a
 * step-up challenge — is counted where it happens. Every label value is a fixed word from code.
 */
import type { RequestHandler } from 'express';
import { Counter, collectDefaultMetrics, Histogram, Registry } from 'prom-client';
import type { AuditRecord } from '../storage/types.ts';

export interface SecurityMetrics {
  /** Every audit record (audit/audit.ts observers). */
  observeAudit(record: AuditRecord): void;
  /** A bearer token refused at /mcp, with the verifier's reason word. */
  tokenRejected(reason: string): void;
  /** A 403 insufficient_scope challenge sent to a signed-in user's client. */
  stepUpChallenged(): void;
}

export interface Metrics {
  readonly registry: Registry;
  /** One request's duration sample, labelled by the route prefix of `path` (never the raw path). */
  observeRequest(path: string, method: string, status: number, seconds: number): void;
  readonly handler: RequestHandler;
  readonly security: SecurityMetrics;
}

const KNOWN_PREFIXES = [
  '/mcp',
  '/oauth',
  '/.well-known',
  '/interaction',
  '/account',
  '/admin',
  '/healthz',
  '/readyz',
  '/metrics',
];

export function createMetrics(): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const duration = new Histogram({
    name: 'sekisho_http_request_duration_seconds',
    help: 'HTTP request duration by route prefix, method and status class',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
    registers: [registry],
  });
  const observeRequest = (path: string, method: string, status: number, seconds: number) => {
    const route = KNOWN_PREFIXES.find((p) => path === p || path.startsWith(`${p}/`)) ?? 'other';
    duration.observe({ route, method, status: `${Math.floor(status / 100)}xx` }, seconds);
  };
  const handler: RequestHandler = async (_req, res) => {
    res.type(registry.contentType).send(await registry.metrics());
  };
  return { registry, observeRequest, handler, security: createSecurityMetrics(registry) };
}

function createSecurityMetrics(registry: Registry): SecurityMetrics {
  const counter = <L extends string>(name: string, help: string, labelNames: readonly L[]) =>
    new Counter<L>({ name, help, labelNames, registers: [registry] });
  const events = counter('sekisho_audit_events_total', 'Audit records by event type and outcome', [
    'type',
    'outcome',
  ]);
  const signIns = counter('sekisho_signins_total', 'Password sign-in attempts by result', ['result']);
  const throttled = counter(
    'sekisho_signin_throttled_total',
    'Sign-in attempts refused by throttling, by the limit that refused them',
    ['limit'],
  );
  const reuse = counter(
    'sekisho_refresh_token_reuse_total',
    'Refresh tokens presented again after use (the grant is revoked)',
    [],
  );
  const revocations = counter(
    'sekisho_grant_revocations_total',
    'Grants revoked, by who or what revoked them',
    ['by'],
  );
  const registrations = counter('sekisho_client_registrations_total', 'OAuth clients registered, by kind', [
    'kind',
  ]);
  const consents = counter('sekisho_consents_total', 'Consent answers', ['decision']);
  const stepUps = counter('sekisho_step_ups_total', 'Scope step-ups: challenges sent and grants widened', [
    'stage',
  ]);
  const tokenFailures = counter(
    'sekisho_token_verification_failures_total',
    'Bearer tokens refused at /mcp, by reason',
    ['reason'],
  );
  // Label values come from code, but a stored record read back could carry anything: keep words only.
  const word = (value: unknown, fallback: string) =>
    typeof value === 'string' && /^[a-z_]{1,32}$/.test(value) ? value : fallback;

  return {
    observeAudit(record) {
      events.inc({ type: record.type, outcome: record.outcome });
      switch (record.type) {
        case 'signin.succeeded':
          return signIns.inc({ result: 'success' });
        case 'signin.failed':
          return signIns.inc({ result: 'failure' });
        case 'signin.throttled':
          signIns.inc({ result: 'throttled' });
          return throttled.inc({ limit: word(record.details.limit, 'other') });
        case 'refresh_token.reused':
          return reuse.inc();
        case 'grant.revoked':
          return revocations.inc({ by: word(record.details.by, 'other') });
        case 'client.registered':
          return registrations.inc({ kind: word(record.details.kind, 'other') });
        case 'consent.granted':
          return consents.inc({ decision: 'granted' });
        case 'consent.denied':
          return consents.inc({ decision: 'denied' });
        case 'grant.widened':
          return stepUps.inc({ stage: 'widened' });
      }
    },
    tokenRejected: (reason) => tokenFailures.inc({ reason: word(reason, 'other') }),
    stepUpChallenged: () => stepUps.inc({ stage: 'challenged' }),
  };
}
