/**
 * Hooks for live data: a query loaded once (and again when the client changes), and a
 * subscription (async iterator of the typed client) followed while the page is shown.
 */
import { useEffect, useState } from 'preact/hooks';
import { api, describeError, onClientChange } from './api';
import type { ReelgraphClient } from '../../client/index';

/** Re-renders when the client changes (after a sign-in); returns a counter to depend on. */
export function useClientVersion(): number {
  const [v, setV] = useState(0);
  useEffect(() => onClientChange(() => setV((x) => x + 1)), []);
  return v;
}

/** Loads `load(client)`; `reload()` loads again. */
export function useQuery<T>(load: (c: ReelgraphClient) => Promise<T>, deps: unknown[] = []) {
  const version = useClientVersion();
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load(api()).then(
      (d) => {
        if (live) {
          setData(d);
          setError(undefined);
        }
      },
      (e) => live && setError(describeError(e)),
    );
    return () => {
      live = false;
    };
  }, [version, tick, ...deps]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}

/** Follows `open(client)` (an async iterator), calling `on` for each item, until unmounted. */
export function useStream<T>(
  open: (c: ReelgraphClient) => AsyncIterableIterator<T> | AsyncGenerator<T>,
  on: (item: T) => void,
  deps: unknown[] = [],
): string | undefined {
  const version = useClientVersion();
  const [error, setError] = useState<string | undefined>(undefined);
  useEffect(() => {
    const it = open(api());
    let live = true;
    void (async () => {
      try {
        for (let r = await it.next(); !r.done && live; r = await it.next()) on(r.value);
      } catch (e) {
        if (live) setError(describeError(e));
      }
    })();
    return () => {
      live = false;
      void it.return?.(undefined);
    };
  }, [version, ...deps]);
  return error;
}
