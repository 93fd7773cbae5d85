/**
 * The 2026-07-28 multi-round-trip `requestState` sealed with keys every instance shares.
 *
 * The SDK's `createRequestStateCodec` takes one HMAC key, and its docs say it: "the same key must be
 * available to every server instance that may receive an echoed requestState". Behind a load
 * balancer the retry of an `input_required` call lands on any instance, so the key cannot be a
 * per-process random one. Ours come from the signing keys in storage (`oauth/secrets.ts`, HKDF label
 * `mcp-request-state`): every instance derives the same ones, nothing extra is stored, and they
 * follow a key rotation. New state is sealed with the active key; an echo is accepted under any
 * published key, so state minted just before a rotation (on this instance or another) still verifies.
 */
import {
  createRequestStateCodec,
  type RequestStateCodec,
  type ServerContext,
} from '@modelcontextprotocol/server';

export interface SharedRequestStateCodecOptions {
  /** HMAC keys (≥ 32 bytes), active first; read on every use, so a rotation is picked up at once. */
  readonly keys: () => readonly Uint8Array[];
  readonly ttlSeconds?: number;
  readonly bind?: (ctx: ServerContext) => string;
}

export function createSharedRequestStateCodec<T>(opts: SharedRequestStateCodecOptions): RequestStateCodec<T> {
  // One SDK codec per key object: the key arrays are rebuilt only when the signing keys change.
  const codecs = new WeakMap<Uint8Array, RequestStateCodec<T>>();
  const codecFor = (key: Uint8Array) => {
    let codec = codecs.get(key);
    if (!codec) {
      codec = createRequestStateCodec<T>({
        key,
        ...(opts.ttlSeconds !== undefined && { ttlSeconds: opts.ttlSeconds }),
        ...(opts.bind && { bind: opts.bind }),
      });
      codecs.set(key, codec);
    }
    return codec;
  };
  const keys = () => {
    const current = opts.keys();
    if (current.length === 0) throw new Error('no request-state key');
    return current;
  };
  return {
    mint: (payload, ctx) => codecFor(keys()[0]!).mint(payload, ctx),
    async verify(state, ctx) {
      let first: unknown;
      for (const key of keys()) {
        try {
          return await codecFor(key).verify(state, ctx);
        } catch (error) {
          // The SDK's reasons are fixed codes ('mac', 'expired', …); the active key's is the one to report.
          first ??= error;
        }
      }
      throw first;
    },
  };
}
