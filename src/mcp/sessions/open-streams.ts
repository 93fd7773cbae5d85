/**
 * A session's SSE responses, watched until they end: a session with an open stream is in use even when
 * no request arrives (it is listening), and a GET stream decides which instance writes the session's
 * standalone messages (cross-instance.ts). Each stream ends as soon as its client goes: the Node adapter
 * notices a closed connection only at its next write (a keep-alive, 15 s later), and until the
 * transport's stream is cancelled a resumption of it is refused as a conflict.
 */

/** Whether the transport answered with an SSE stream (rather than JSON or an empty response). */
export function isEventStream(
  response: Response,
): response is Response & { body: ReadableStream<Uint8Array> } {
  return response.body !== null && !!response.headers.get('content-type')?.startsWith('text/event-stream');
}

/**
 * The same stream, which calls `onEnd` once when it ends: read to its end, failed, cancelled, or its
 * request aborted (the client went; the transport's stream is then cancelled).
 */
export function untilEnded(
  response: Response & { body: ReadableStream<Uint8Array> },
  signal: AbortSignal,
  onEnd: () => void,
): Response {
  let done = false;
  const finish = () => {
    if (done) return;
    done = true;
    onEnd();
  };
  const reader = response.body.getReader();
  signal.addEventListener(
    'abort',
    () => {
      finish();
      void reader.cancel().catch(() => {});
    },
    { once: true },
  );
  const body = new ReadableStream<Uint8Array>({
    async pull(controller) {
      try {
        const { value, done: ended } = await reader.read();
        if (ended) {
          finish();
          controller.close();
        } else controller.enqueue(value);
      } catch (error) {
        finish();
        controller.error(error);
      }
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason);
    },
  });
  return new Response(body, { status: response.status, headers: response.headers });
}
