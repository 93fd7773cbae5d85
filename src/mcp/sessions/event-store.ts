/**
 * The events of one session's SSE streams, kept so a client that lost a stream can resume it with
 * `Last-Event-ID` (Streamable HTTP, "Resumability and Redelivery"). This is the SDK's `EventStore`
 * interface; the SDK transport decides what to store and replays through it.
 *
 * One store per session, never shared: an event id only ever resolves within the session whose
 * (authenticated, owner-checked) request presents it, so one client cannot replay another's stream.
 * Bounded by count and bytes (settings): the oldest events go first, and an id that has been dropped
 * resumes nothing (the SDK answers 400 and the client starts a fresh stream).
 */
import type { EventId, EventStore, JSONRPCMessage, StreamId } from '@modelcontextprotocol/server';

export interface EventStoreLimits {
  readonly events: number;
  readonly bytes: number;
}

interface StoredEvent {
  readonly id: EventId;
  readonly streamId: StreamId;
  readonly message: JSONRPCMessage;
  readonly bytes: number;
}

/** `<sequence>_<stream id>`: ordered within the session, and names its stream without a lookup. */
export function eventIdOf(sequence: number, streamId: StreamId): EventId {
  return `${sequence}_${streamId}`;
}

export function parseEventId(eventId: EventId): { sequence: number; streamId: StreamId } | undefined {
  const cut = eventId.indexOf('_');
  if (cut <= 0 || cut > 15) return undefined;
  const sequence = Number(eventId.slice(0, cut));
  const streamId = eventId.slice(cut + 1);
  if (!Number.isSafeInteger(sequence) || sequence < 0 || streamId === '') return undefined;
  return { sequence, streamId };
}

/** The SDK's priming event (an empty message) starts a stream; it is stored but never replayed. */
export function isPrimingEvent(message: JSONRPCMessage): boolean {
  return Object.keys(message).length === 0;
}

/** Catch-up passes over events stored during a replay; later ones arrive live. */
const MAX_REPLAY_PASSES = 4;

export interface BoundedEventStore extends EventStore {
  getStreamIdForEventId(eventId: EventId): Promise<StreamId | undefined>;
  /** Events and bytes held now (tests, metrics). */
  size(): { events: number; bytes: number };
}

export function createMemoryEventStore(limits: EventStoreLimits): BoundedEventStore {
  const events: StoredEvent[] = [];
  let bytes = 0;
  let sequence = 0;

  const find = (eventId: EventId) => events.findIndex((e) => e.id === eventId);

  return {
    async storeEvent(streamId, message) {
      const id = eventIdOf(sequence++, streamId);
      const size = Buffer.byteLength(JSON.stringify(message));
      events.push({ id, streamId, message, bytes: size });
      bytes += size;
      while (events.length > limits.events || (bytes > limits.bytes && events.length > 0)) {
        bytes -= (events.shift() as StoredEvent).bytes;
      }
      return id;
    },
    async getStreamIdForEventId(eventId) {
      const at = find(eventId);
      return at < 0 ? undefined : events[at]!.streamId;
    },
    async replayEventsAfter(lastEventId, { send }) {
      const from = parseEventId(lastEventId);
      if (!from || find(lastEventId) < 0) return '';
      // Events stored while replaying are sent too (the SDK skips those it then also sends live).
      let after = from.sequence;
      for (let pass = 0; pass < MAX_REPLAY_PASSES; pass++) {
        const next = events.filter(
          (e) => e.streamId === from.streamId && parseEventId(e.id)!.sequence > after,
        );
        if (next.length === 0) return from.streamId;
        for (const event of next) {
          after = parseEventId(event.id)!.sequence;
          if (!isPrimingEvent(event.message)) await send(event.id, event.message);
        }
      }
      return from.streamId;
    },
    size: () => ({ events: events.length, bytes }),
  };
}
