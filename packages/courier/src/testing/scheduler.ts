/**
 * Drives an event source on a manual clock: lets what is running finish (promises, the in-memory
 * queue's calls, handlers), then fires the clock's next timer (a long poll's end, a message turning
 * visible, a batching window, a backoff), and again, until the caller's condition holds. Time never
 * moves while a handler runs: its own I/O is real, and a jump would time it out.
 */
import type { ManualClock } from "./manual-clock.ts";

/** Turns of the event loop with nothing new that count as quiet. */
const QUIET_TURNS = 3;

export class SchedulerTimeoutError extends Error {
  override readonly name = "WaitForTimeoutError";
}

export class Scheduler {
  private activity = 0;
  private running = 0;

  private readonly clock: ManualClock;
  /** Wall time after which a run gives up (a handler stuck on real I/O). */
  private readonly wallTimeoutMs: number;

  constructor(clock: ManualClock, wallTimeoutMs: number) {
    this.clock = clock;
    this.wallTimeoutMs = wallTimeoutMs;
  }

  /** Something happened (a queue call, an outcome): the loop is not quiet yet. */
  bump(): void {
    this.activity += 1;
  }

  /** Wraps a handler so the scheduler knows while it runs. */
  track<A extends unknown[], R>(handler: (...args: A) => Promise<R> | R): (...args: A) => Promise<R> {
    return async (...args: A) => {
      this.running += 1;
      this.bump();
      try {
        return await handler(...args);
      } finally {
        this.running -= 1;
        this.bump();
      }
    };
  }

  get handlersRunning(): number {
    return this.running;
  }

  /** Runs until `done()` or until no timer is due at or before `limitMs`. */
  async runUntil(done: () => boolean, limitMs: number): Promise<void> {
    const wallDeadline = Date.now() + this.wallTimeoutMs;
    for (;;) {
      await this.settle(wallDeadline);
      if (done()) return;
      if (!this.clock.fireNext(limitMs)) return;
    }
  }

  /** Lets promises and callbacks run until nothing new happens for a few turns of the event loop. */
  private async settle(wallDeadline: number): Promise<void> {
    let quiet = 0;
    let seen = this.activity;
    while (quiet < QUIET_TURNS) {
      await new Promise((resolve) => setImmediate(resolve));
      if (this.activity !== seen || this.running > 0) {
        seen = this.activity;
        quiet = 0;
        if (Date.now() > wallDeadline) {
          throw new SchedulerTimeoutError(
            `a handler is still running after ${this.wallTimeoutMs} ms of wall time`,
          );
        }
      } else {
        quiet += 1;
      }
    }
  }
}
