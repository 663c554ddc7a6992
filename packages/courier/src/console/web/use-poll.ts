/** Polls a loader every `intervalMs` while mounted; keeps the last good value when a poll fails. */
import { useEffect, useRef, useState } from "preact/hooks";

export interface Polled<T> {
  readonly value: T | undefined;
  readonly error: string | undefined;
  /** Reload now (after an action). */
  readonly refresh: () => void;
}

export function usePoll<T>(load: (() => Promise<T>) | undefined, intervalMs: number, key: string): Polled<T> {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | undefined>(undefined);
  const [tick, setTick] = useState(0);
  const loadRef = useRef(load);
  loadRef.current = load;

  useEffect(() => {
    setValue(undefined);
    setError(undefined);
  }, [key]);
  // tick forces a reload; the loader is read from a ref so a new closure does not restart polling.
  useEffect(() => {
    let stopped = false;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      const current = loadRef.current;
      if (!current) return;
      try {
        const next = await current();
        if (!stopped) {
          setValue(next);
          setError(undefined);
        }
      } catch (e) {
        if (!stopped) setError((e as Error).message);
      }
      if (!stopped) timer = setTimeout(run, intervalMs);
    };
    void run();
    return () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    };
  }, [key, intervalMs, tick]);

  return { value, error, refresh: () => setTick((t) => t + 1) };
}
