/**
 * PostgreSQL for tests: the server at SEKISHO_TEST_DATABASE_URL (default the local trust-auth
 * `postgres://postgres@127.0.0.1:5432/test`), and a fresh schema per use, dropped afterwards, so
 * parallel runs never see each other's rows.
 *
 * No server: tests skip loudly on a laptop and fail under CI=true.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const TEST_DATABASE_URL =
  process.env.SEKISHO_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

let probed: Promise<string | undefined> | undefined;

/** Why PostgreSQL tests cannot run here, or undefined when they can. Throws under CI. */
export function postgresUnavailable(): Promise<string | undefined> {
  probed ??= (async () => {
    const client = new pg.Client({ connectionString: TEST_DATABASE_URL, connectionTimeoutMillis: 3_000 });
    try {
      await client.connect();
      await client.query('SELECT 1');
      return undefined;
    } catch (error) {
      const reason = `PostgreSQL not reachable at ${new URL(TEST_DATABASE_URL).host} (${(error as Error).message}); set SEKISHO_TEST_DATABASE_URL`;
      if (process.env.CI === 'true') throw new Error(`${reason} — required in CI`);
      console.warn(`SKIPPING PostgreSQL tests: ${reason}`);
      return reason;
    } finally {
      await client.end().catch(() => {});
    }
  })();
  return probed;
}

/** Runs SQL on the test server outside any Sekisho pool (schema setup, inspection). */
export async function adminQuery<R extends pg.QueryResultRow = pg.QueryResultRow>(
  text: string,
  values: unknown[] = [],
  url = TEST_DATABASE_URL,
): Promise<R[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<R>(text, values)).rows;
  } finally {
    await client.end();
  }
}

export interface TestSchema {
  /** e.g. `sekisho_test_3f9a0c1d2b4e` */
  readonly name: string;
  drop(): Promise<void>;
}

/** A new, empty schema name (created by Sekisho's migrations when it opens with it, or here). */
export async function freshSchema(opts: { create?: boolean } = {}): Promise<TestSchema> {
  const name = `sekisho_test_${randomBytes(6).toString('hex')}`;
  if (opts.create) await adminQuery(`CREATE SCHEMA ${name}`);
  let dropped: Promise<void> | undefined;
  return {
    name,
    drop() {
      dropped ??= adminQuery(`DROP SCHEMA IF EXISTS ${name} CASCADE`).then(() => {});
      return dropped;
    },
  };
}
