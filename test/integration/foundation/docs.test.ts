/** docs/configuration.md documents every key of the config schema, each in its own table row. */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { envSchema } from '../../../src/config/schema.ts';

describe('docs/configuration.md', () => {
  const doc = readFileSync('docs/configuration.md', 'utf8');
  const rows = new Set([...doc.matchAll(/^\| `([A-Z0-9_]+)` +\|/gm)].map((m) => m[1]));

  it('has a table row for every key in src/config/schema.ts', () => {
    const missing = Object.keys(envSchema.shape).filter((key) => !rows.has(key));
    assert.deepEqual(missing, [], 'add a row for each missing key');
  });

  it('documents no key that the schema does not have', () => {
    const known = new Set(Object.keys(envSchema.shape));
    assert.deepEqual(
      [...rows].filter((key) => !known.has(key as string)),
      [],
    );
  });
});
