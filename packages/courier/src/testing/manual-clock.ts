/**
 * A clock the test moves: timers fire only when the kit advances time, so a 30-second backoff, a
 * batching window or a 20-second long poll costs no wall time. The event source and the in-memory
 * queue both run on it (worker/clock.ts), which is what keeps their time consistent.
 */
import type { Clock, ClockTimer } from "../worker/clock.ts";

interface Timer {
  readonly id: number;
  readonly dueMs: number;
  readonly callback: () => void;
}

export class ManualClock implements Clock {
  private nowMs: number;
  private timers: Timer[] = [];
  private nextId = 1;

  constructor(startMs: number) {
    this.nowMs = startMs;
  }

  now(): number {
    return this.nowMs;
  }

  setTimeout(callback: () => void, ms: number): ClockTimer {
    const timer: Timer = { id: this.nextId++, dueMs: this.nowMs + Math.max(0, ms), callback };
    this.timers.push(timer);
    // Stable by due time, then by creation: timers due together fire in the order they were set.
    this.timers.sort((a, b) => a.dueMs - b.dueMs || a.id - b.id);
    return timer.id;
  }

  clearTimeout(timer: ClockTimer | undefined): void {
    this.timers = this.timers.filter((t) => t.id !== timer);
  }

  unref(): void {
    // Nothing to keep alive: no process-level timer stands behind a manual one.
  }

  /** When the next timer is due, or undefined when none is set. */
  nextDueMs(): number | undefined {
    return this.timers[0]?.dueMs;
  }

  /**
   * Fires the earliest timer, if it is due at or before `limitMs`, moving the time to it; returns
   * whether one fired. One at a time: the caller lets what it started run before the next.
   */
  fireNext(limitMs: number): boolean {
    const next = this.timers[0];
    if (!next || next.dueMs > limitMs) return false;
    this.timers.shift();
    this.nowMs = Math.max(this.nowMs, next.dueMs);
    next.callback();
    return true;
  }

  /** Moves the time to `ms` without firing anything (after every timer up to it has fired). */
  moveTo(ms: number): void {
    this.nowMs = Math.max(this.nowMs, ms);
  }
}
