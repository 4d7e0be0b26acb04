/**
 * The pump of the stand-in's server-streaming calls (server.ts): writes every item of an async
 * iterator to a gRPC stream, with back-pressure, until the iterator ends or the call is aborted.
 *
 * Its waits keep nothing once they are over. A stream may live as long as the server (pachd's
 * SubscribeCommit and SubscribeJob never end by themselves; the service keeps one of each open),
 * so racing every `next()` against one long-lived "aborted" promise (`Promise.race([it.next(),
 * aborted.then(…)])`) would register one reaction on that promise per item, and each reaction
 * keeps its race's result, the item, alive until the stream ends: a heap that grows with the
 * number of commits and jobs ever streamed (issue 10). Here each wait adds one abort listener
 * and removes it when it settles.
 */
import { untilAborted } from '../abort';

/** Where {@link pumpStream} writes: a gRPC `ServerWritableStream` in practice. */
export interface StreamSink<T> {
  /** Writes one message; false asks the writer to wait for `drain` (Node's stream contract). */
  write(message: T): boolean;
  /** Resolves on the sink's next `drain` event. */
  drained(): Promise<void>;
}

/**
 * Writes each item of `it` to `sink` until `it` ends or `signal` aborts, waiting for `drain` when
 * the sink asks to.
 * @returns `'ended'` when the iterator ended, `'aborted'` when the signal stopped the pump (the
 *   caller then returns the iterator and ends the call)
 * @throws whatever `it.next()` throws (the caller turns it into the call's status)
 */
export async function pumpStream<T>(
  it: AsyncIterator<T>,
  sink: StreamSink<T>,
  signal: AbortSignal,
): Promise<'ended' | 'aborted'> {
  for (;;) {
    const r = await untilAborted(it.next(), signal);
    if (r === null) return 'aborted';
    if (r.done) return 'ended';
    if (!sink.write(r.value)) await untilAborted(sink.drained(), signal);
    if (signal.aborted) return 'aborted';
  }
}
