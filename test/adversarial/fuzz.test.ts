/**
 * The short fuzz run that is part of `npm test` (the long one: `npm run fuzz -- --requests=100000`):
 * 10,000 seeded requests over every route of two servers (anonymous access on and off). No answer
 * may be ≥ 500, every request gets an answer (never a reset), client input never produces an
 * error-level log line, and afterwards the servers are healthy and a real authenticated tools/call
 * works.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runFuzz, summarize } from './fuzz/run.ts';

const SEED = Number(process.env.SEKISHO_FUZZ_SEED ?? 20261202);
const REQUESTS = Number(process.env.SEKISHO_FUZZ_REQUESTS ?? 10_000);

describe('fuzzing every route', () => {
  it(`${REQUESTS} seeded hostile requests: no 5xx, no reset, no error log, healthy after`, {
    timeout: 1_800_000,
  }, async () => {
    const report = await runFuzz({ seed: SEED, requests: REQUESTS });
    const summary = summarize(report);
    console.log(summary);
    assert.equal(report.requests, REQUESTS);
    // Every surface was exercised (a generator that silently stopped would hide a whole route).
    assert.ok(Object.keys(report.bySurface).length >= 12, summary);
    assert.deepEqual(report.serverErrors, [], summary);
    assert.deepEqual(report.noAnswer, [], summary);
    assert.deepEqual(report.errorLogLines, [], summary);
    assert.ok(report.healthyAfter, summary);
  });
});
