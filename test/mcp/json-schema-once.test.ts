/**
 * Tool schemas registered on the per-request McpServer convert to JSON Schema once per process:
 * the same JSON Schema zod produces, the same validation verdicts, and a frozen shared value.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { jsonSchemaOnce } from '../../src/mcp/json-schema-once.ts';

const input = z.object({ name: z.string().max(3).optional().describe('who') });
const target = 'draft-2020-12' as const;

describe('jsonSchemaOnce', () => {
  it('gives zod’s own JSON Schema, converted once and frozen', () => {
    const schema = jsonSchemaOnce(input);
    const first = schema['~standard'].jsonSchema.input({ target });
    assert.deepEqual(first, input['~standard'].jsonSchema.input({ target }));
    assert.equal(schema['~standard'].jsonSchema.input({ target }), first, 'the same object every time');
    assert.ok(Object.isFrozen(first) && Object.isFrozen(first.properties));
    assert.equal(jsonSchemaOnce(input), schema, 'one wrapper per schema');
    assert.notEqual(schema['~standard'].jsonSchema.input({ target: 'draft-07' }), first);
  });

  it('validates exactly as zod does', async () => {
    const std = jsonSchemaOnce(input)['~standard'];
    assert.deepEqual(await std.validate({ name: 'abc' }), { value: { name: 'abc' } });
    const bad = await std.validate({ name: 'abcd' });
    assert.ok(bad.issues && bad.issues.length === 1);
    assert.deepEqual(bad.issues[0]?.path, ['name']);
  });
});
