/**
 * The time the event source runs on. The worker uses the system's; the test kit
 * (`@courier-queue/courier/testing`) passes a clock the test controls, so the same event source
 * code waits out a 30-second backoff or a batching window without any wall time passing.
 */

/** An opaque timer handle, as a clock hands it out. */
export type ClockTimer = unknown;

export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
  setTimeout(callback: () => void, ms: number): ClockTimer;
  clearTimeout(timer: ClockTimer | undefined): void;
  /** The timer must not keep the process alive (a no-op on a clock without a process behind it). */
  unref(timer: ClockTimer): void;
}

// Each looked up at call time, so tests that fake the global timers fake these too.
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (timer) => clearTimeout(timer as NodeJS.Timeout | undefined),
  unref: (timer) => void (timer as NodeJS.Timeout).unref(),
};

/** Resolves after `ms` on the clock; rejects with the signal's reason when it aborts first. */
export function sleepOn(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clock.clearTimeout(timer);
      reject(signal?.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
