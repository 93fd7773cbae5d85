/**
 * The Storage every part receives, composed from the durable backend (SQLite or PostgreSQL) and the
 * shared ephemeral state:
 *
 *  - `hit`/`peek`/`reset` go to the RateLimitStore given (Redis when configured), so login,
 *    registration (and any later) throttles are counted once across instances;
 *  - writes that revoke or change something other instances may hold publish on the invalidation bus
 *    *after* they succeed: `revokeByGrantId` and deleting a Grant (grant.revoked), `updateUser`
 *    (user.changed), `deleteUser` (user.removed), `rotateKeys`/`addKey`/`ensureActiveKey` (keys.rotated). Wrapping the
 *    storage rather than each caller means every path publishes — account page, oidc-provider's
 *    adapter, identity, the CLI — and none can forget to.
 *
 * A publish that fails (Redis down) is logged, not thrown: the write is done and is the truth; other
 * instances read it on their next request (grants, users) or next key check (keys).
 */
import type { Logger } from '../observability/logger.ts';
import type { RateLimitStore, Storage } from '../storage/types.ts';
import type { Invalidation, InvalidationBus } from './invalidation-bus.ts';

export interface SharedState {
  readonly rateLimits?: RateLimitStore;
  readonly bus?: InvalidationBus;
  readonly logger?: Logger;
}

export function composeStorage<S extends Storage>(durable: S, shared: SharedState): S {
  const { rateLimits, bus, logger } = shared;
  const composed = delegateTo(durable);
  const announce = (event: Invalidation) =>
    bus
      ?.publish(event)
      .catch((err: unknown) => logger?.warn({ err, event: event.type }, 'invalidation not sent'));

  if (rateLimits) {
    composed.hit = (key, windowSeconds) => rateLimits.hit(key, windowSeconds);
    composed.peek = (key, windowSeconds) => rateLimits.peek(key, windowSeconds);
    composed.reset = (key) => rateLimits.reset(key);
  }
  if (bus) {
    composed.revokeByGrantId = async (grantId) => {
      await durable.revokeByGrantId(grantId);
      await announce({ type: 'grant.revoked', grantId });
    };
    composed.destroy = async (model, id) => {
      await durable.destroy(model, id);
      if (model === 'Grant') await announce({ type: 'grant.revoked', grantId: id });
    };
    composed.updateUser = async (id, patch) => {
      const changed = await durable.updateUser(id, patch);
      if (changed) await announce({ type: 'user.changed', userId: id });
      return changed;
    };
    composed.deleteUser = async (id) => {
      const removed = await durable.deleteUser(id);
      if (removed) await announce({ type: 'user.removed', userId: id });
      return removed;
    };
    composed.rotateKeys = async (next, now) => {
      await durable.rotateKeys(next, now);
      await announce({ type: 'keys.rotated' });
    };
    composed.ensureActiveKey = async (candidate) => {
      const added = await durable.ensureActiveKey(candidate);
      if (added) await announce({ type: 'keys.rotated' });
      return added;
    };
    composed.addKey = async (key) => {
      await durable.addKey(key);
      await announce({ type: 'keys.rotated' });
    };
  }
  return composed;
}

/**
 * A new object exposing every member of `target` (own and inherited), methods bound to it, other
 * values read through. Works for plain-object backends and class-based ones with private fields.
 */
function delegateTo<S extends object>(target: S): S {
  const out: Record<PropertyKey, unknown> = {};
  for (let o: object | null = target; o && o !== Object.prototype; o = Object.getPrototypeOf(o)) {
    for (const key of Reflect.ownKeys(o)) {
      if (key === 'constructor' || key in out) continue;
      const value = (target as Record<PropertyKey, unknown>)[key];
      if (typeof value === 'function') out[key] = value.bind(target);
      else
        Object.defineProperty(out, key, {
          get: () => (target as Record<PropertyKey, unknown>)[key],
          enumerable: true,
          configurable: true,
        });
    }
  }
  return out as S;
}
