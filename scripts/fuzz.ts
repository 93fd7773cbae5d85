/**
 * `npm run fuzz -- --seed=1 --requests=100000 [--concurrency=8]`: the HTTP fuzzer
 * (test/adversarial/fuzz/) against two in-process servers. Exits 1 if any answer was ≥ 500, any
 * request got no answer, the server logged an error, or it was unhealthy afterwards.
 */
import { runFuzz, summarize } from '../test/adversarial/fuzz/run.ts';

function flag(name: string, fallback: number): number {
  const arg = process.argv.find((a) => a.startsWith(`--${name}=`));
  const value = arg ? Number(arg.slice(name.length + 3)) : fallback;
  if (!Number.isSafeInteger(value) || value < 0) throw new Error(`--${name} must be a non-negative integer`);
  return value;
}

const seed = flag('seed', Date.now() % 1_000_000);
const requests = flag('requests', 100_000);
const concurrency = flag('concurrency', 8);
console.log(`fuzzing: seed ${seed}, ${requests} requests, concurrency ${concurrency}`);
const report = await runFuzz({
  seed,
  requests,
  concurrency,
  progressEvery: 10_000,
  onFailure: (sample) => console.log(`  FAILURE ${JSON.stringify(sample)}`),
  onProgress: (done, r) =>
    console.log(
      `  ${done} requests, ${(r.durationMs / 1000).toFixed(0)} s, >= 500: ${r.serverErrors.length}, no answer: ${r.noAnswer.length}`,
    ),
});
console.log(summarize(report));
const failed =
  report.serverErrors.length > 0 ||
  report.noAnswer.length > 0 ||
  report.errorLogLines.length > 0 ||
  !report.healthyAfter;
process.exit(failed ? 1 : 0);
