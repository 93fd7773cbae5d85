/**
 * The 2026-07-28 `requestState` behind a load balancer (issue #12): what one instance seals, another
 * verifies — both derive the keys from the same signing keys in storage (`oauth/secrets.ts`), where a
 * per-process random key (what the conformance fixture had) refused every retry that changed
 * instance. State sealed before a key rotation still verifies after it; tampered or foreign state
 * does not. The conformance profile's list toggles travel on the invalidation bus (parsed strictly).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { createRequestStateCodec, type ServerContext } from '@modelcontextprotocol/server';
import { parseInvalidation } from '../../src/cluster/invalidation-bus.ts';
import { createSharedRequestStateCodec } from '../../src/mcp/request-state-codec.ts';
import { deriveSecrets } from '../../src/oauth/secrets.ts';

const ctx = {} as ServerContext;
const d1 = randomBytes(32).toString('base64url');
const d2 = randomBytes(32).toString('base64url');

/** One instance: its secrets as derived from the key store it read. */
function instance(jwks: { keys: { d: string }[] }) {
  const secrets = deriveSecrets(jwks);
  return createSharedRequestStateCodec<{ round: number }>({ keys: () => secrets.requestStateKeys });
}

describe('requestState sealed with keys every instance derives alike', () => {
  it('is verified by another instance that read the same key store', async () => {
    const a = instance({ keys: [{ d: d1 }] });
    const b = instance({ keys: [{ d: d1 }] });
    const state = await a.mint({ round: 2 });
    assert.deepEqual(await b.verify(state, ctx), { round: 2 });
  });

  it('where per-process random keys (the old fixture) refuse the retry on another instance', async () => {
    const a = createRequestStateCodec<{ round: number }>({ key: randomBytes(32) });
    const b = createRequestStateCodec<{ round: number }>({ key: randomBytes(32) });
    await assert.rejects(b.verify(await a.mint({ round: 1 }), ctx));
  });

  it('state sealed before a rotation verifies after it; new state uses the new active key', async () => {
    const before = instance({ keys: [{ d: d1 }] });
    const after = instance({ keys: [{ d: d2 }, { d: d1 }] });
    const old = await before.mint({ round: 1 });
    assert.deepEqual(await after.verify(old, ctx), { round: 1 });
    const fresh = await after.mint({ round: 3 });
    await assert.rejects(
      before.verify(fresh, ctx),
      'an instance that has not reloaded yet cannot forge trust',
    );
    const reloaded = instance({ keys: [{ d: d2 }, { d: d1 }] });
    assert.deepEqual(await reloaded.verify(fresh, ctx), { round: 3 });
  });

  it('refuses tampered state and state sealed under another deployment’s keys', async () => {
    const a = instance({ keys: [{ d: d1 }] });
    const state = await a.mint({ round: 1 });
    const [v, body, mac] = state.split('.');
    const forged = Buffer.from(JSON.stringify({ p: { round: 9 }, exp: 4_102_444_800 })).toString('base64url');
    await assert.rejects(a.verify(`${v}.${forged}.${mac}`, ctx));
    await assert.rejects(a.verify(`${v}.${body}.${mac}x`, ctx));
    await assert.rejects(a.verify('not-a-state', ctx));
    await assert.rejects(instance({ keys: [{ d: d2 }] }).verify(state, ctx));
  });

  it('keys are independent of the other derived secrets', () => {
    const secrets = deriveSecrets({ keys: [{ d: d1 }] });
    assert.equal(secrets.requestStateKeys[0]!.length, 32);
    assert.notDeepEqual(secrets.requestStateKeys[0], secrets.dpopNonceKeys[0]);
  });
});

describe('conformance.lists on the invalidation bus', () => {
  it('parses only booleans', () => {
    assert.deepEqual(parseInvalidation('{"type":"conformance.lists","tool":true,"prompt":false}'), {
      type: 'conformance.lists',
      tool: true,
      prompt: false,
    });
    for (const bad of [
      '{"type":"conformance.lists","tool":"yes","prompt":false}',
      '{"type":"conformance.lists","tool":true}',
    ]) {
      assert.equal(parseInvalidation(bad), undefined, bad);
    }
  });
});
