import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createUseRecorder } from '../../src/oauth/use-recorder.ts';

function recorder(opts: { maxEntries?: number } = {}) {
  const touches: [string, string, number | undefined][] = [];
  let t = 1_000_000;
  const uses = createUseRecorder({
    storage: {
      async touch(model, id, expiresInSeconds) {
        touches.push([model, id, expiresInSeconds]);
        return true;
      },
    },
    intervalMs: 60_000,
    now: () => t,
    ...opts,
  });
  return { uses, touches, advance: (ms: number) => (t += ms) };
}

describe('use recorder', () => {
  it('touches a row at most once per interval, then again after it', async () => {
    const { uses, touches, advance } = recorder();
    await uses.record('Grant', 'g1');
    await uses.record('Grant', 'g1');
    advance(59_999);
    await uses.record('Grant', 'g1');
    assert.deepEqual(touches, [['Grant', 'g1', undefined]]);
    advance(1);
    await uses.record('Grant', 'g1');
    assert.equal(touches.length, 2);
  });

  it('keeps models and ids apart and passes the expiry through', async () => {
    const { uses, touches } = recorder();
    await uses.record('Grant', 'x');
    await uses.record('Client', 'x', 3600);
    await uses.record('Grant', 'y');
    assert.deepEqual(touches, [
      ['Grant', 'x', undefined],
      ['Client', 'x', 3600],
      ['Grant', 'y', undefined],
    ]);
  });

  it('stays bounded: past maxEntries it forgets and touches again rather than growing', async () => {
    const { uses, touches } = recorder({ maxEntries: 2 });
    await uses.record('Grant', 'a');
    await uses.record('Grant', 'b');
    await uses.record('Grant', 'c'); // clears the memory
    await uses.record('Grant', 'a');
    assert.equal(touches.length, 4);
  });
});
