/**
 * The invalidation bus: "something every instance may hold a copy of has changed". Publishers are the
 * storage writes that revoke or change shared state (`publishing-storage.ts` wraps them, so every path
 * — pages, oidc-provider, the CLI — publishes without knowing it); subscribers drop what they hold:
 * the signing keys the authorization server signs with, the token verifier's keys and verdicts, and
 * (issue 15) any cache of grants or users.
 *
 * On one box the bus is an in-process EventEmitter; with Redis it is a pub/sub channel shared by every
 * instance (`redis-bus.ts`). Delivery is best-effort and carries no data anyone trusts: an event only
 * says "re-read from storage", and storage stays the source of truth. So a lost message costs
 * freshness, never correctness — and the key store is re-read periodically anyway (`key-watcher.ts`).
 */
import { EventEmitter } from 'node:events';

export type Invalidation =
  | { readonly type: 'grant.revoked'; readonly grantId: string }
  | { readonly type: 'user.changed'; readonly userId: string }
  | { readonly type: 'user.removed'; readonly userId: string }
  | { readonly type: 'keys.rotated' }
  /**
   * The conformance profile's (SEKISHO_PROFILE=conformance) dynamic tool and prompt, as toggled by its
   * trigger tools on some instance: every instance lists the same and tells its own
   * `subscriptions/listen` streams. Other profiles ignore it.
   */
  | { readonly type: 'conformance.lists'; readonly tool: boolean; readonly prompt: boolean }
  /**
   * Local only, never sent nor accepted from the wire: the shared bus was disconnected and is back, so
   * events sent meanwhile were lost — drop every cache that relies on them.
   */
  | { readonly type: 'bus.resumed' }
  /** A 2025-era session ended (DELETE, evicted by its pool's cap, revoked): every copy of it ends. */
  | { readonly type: 'session.ended'; readonly sessionId: string };

export type InvalidationListener = (event: Invalidation) => void;

export interface InvalidationBus {
  /** Delivers to this process's listeners at once, then to other instances (when shared). */
  publish(event: Invalidation): Promise<void>;
  /** Returns the unsubscribe function. Listeners must not throw (errors are swallowed and logged). */
  subscribe(listener: InvalidationListener): () => void;
  /** True when events reach other processes (Redis); false for the in-process bus. */
  readonly shared: boolean;
  /** False while a shared bus cannot hear other instances (Redis down): caches must not trust it. */
  connected(): boolean;
  close(): Promise<void>;
}

/** Local delivery shared by both buses: synchronous, isolated per listener. */
export function createLocalDelivery(onListenerError?: (err: unknown) => void) {
  const emitter = new EventEmitter();
  emitter.setMaxListeners(0);
  return {
    deliver(event: Invalidation) {
      for (const listener of emitter.listeners('event') as InvalidationListener[]) {
        try {
          listener(event);
        } catch (err) {
          onListenerError?.(err);
        }
      }
    },
    subscribe(listener: InvalidationListener) {
      emitter.on('event', listener);
      return () => void emitter.off('event', listener);
    },
  };
}

/** One process: publish = deliver here. */
export function createInProcessBus(onListenerError?: (err: unknown) => void): InvalidationBus {
  const local = createLocalDelivery(onListenerError);
  return {
    async publish(event) {
      local.deliver(event);
    },
    subscribe: local.subscribe,
    shared: false,
    connected: () => true,
    async close() {},
  };
}

/** Parses an event from the wire; undefined for anything malformed (never trusted beyond its shape). */
export function parseInvalidation(text: string): Invalidation | undefined {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (!value || typeof value !== 'object') return undefined;
  const v = value as Record<string, unknown>;
  const id = (name: string) => typeof v[name] === 'string' && (v[name] as string).length <= 256;
  switch (v.type) {
    case 'grant.revoked':
      return id('grantId') ? { type: v.type, grantId: v.grantId as string } : undefined;
    case 'user.changed':
    case 'user.removed':
      return id('userId') ? { type: v.type, userId: v.userId as string } : undefined;
    case 'keys.rotated':
      return { type: v.type };
    case 'conformance.lists':
      return typeof v.tool === 'boolean' && typeof v.prompt === 'boolean'
        ? { type: v.type, tool: v.tool, prompt: v.prompt }
        : undefined;
    case 'session.ended':
      return id('sessionId') ? { type: v.type, sessionId: v.sessionId as string } : undefined;
    default:
      return undefined;
  }
}
