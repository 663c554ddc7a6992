/**
 * The event source's visibility changes: releasing messages a stopping worker will not process
 * (visibility 0), and keeping a long-running record hidden while its handler works (extending its
 * visibility, never past the function timeout). Both use ChangeMessageVisibilityBatch: one call per
 * 10 messages.
 */
import { ChangeMessageVisibilityBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { type Clock, systemClock } from "./clock.ts";

const CHUNK = 10;
const ATTEMPTS = 3;
const RETRY_BASE_MS = 100;

export interface VisibilityChange {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly receiptHandles: readonly string[];
  readonly visibilityTimeoutSeconds: number;
  /** Called once per failed call or entry. */
  readonly onError: (error: unknown) => void;
}

/**
 * Sets the visibility timeout of every handle, retrying entries that fail for a reason on SQS's
 * side; returns how many were changed. A sender fault (a receipt handle that expired, or a message
 * already deleted) is not retried.
 */
export async function changeVisibility(change: VisibilityChange): Promise<number> {
  let changed = 0;
  for (let i = 0; i < change.receiptHandles.length; i += CHUNK) {
    changed += await changeChunk(change, change.receiptHandles.slice(i, i + CHUNK));
  }
  return changed;
}

async function changeChunk(change: VisibilityChange, handles: readonly string[]): Promise<number> {
  // Entry ids must be unique within a call and match [A-Za-z0-9_-]; the index is both.
  let pending = handles.map((handle, index) => ({
    Id: String(index),
    ReceiptHandle: handle,
    VisibilityTimeout: change.visibilityTimeoutSeconds,
  }));
  let changed = 0;
  for (let attempt = 1; ; attempt++) {
    try {
      const { Successful = [], Failed = [] } = await change.sqs.send(
        new ChangeMessageVisibilityBatchCommand({ QueueUrl: change.queueUrl, Entries: pending }),
      );
      changed += Successful.length;
      for (const failure of Failed) {
        change.onError(
          new Error(
            `visibility change of entry ${failure.Id}: ${failure.Code} ${failure.Message ?? ""}`.trim(),
          ),
        );
      }
      const retryable = new Set(Failed.filter((f) => !f.SenderFault).map((f) => f.Id));
      pending = pending.filter((entry) => retryable.has(entry.Id));
    } catch (error) {
      change.onError(error);
    }
    if (pending.length === 0 || attempt >= ATTEMPTS) return changed;
    await new Promise((resolve) => setTimeout(resolve, RETRY_BASE_MS * 2 ** (attempt - 1)));
  }
}

export interface VisibilityKeeperSettings {
  /** The queue's visibility timeout: how long each receive (and each extension) hides a message. */
  readonly visibilityTimeoutSeconds: number;
  /** Extend once this fraction of the current visibility timeout has passed (0 < f < 1). */
  readonly extendAfterFraction: number;
  /** When the messages were received (epoch ms): their visibility timeout runs from then. */
  readonly receivedAtMs: number;
  /** The function's deadline (epoch ms): no extension keeps a message hidden past it. */
  readonly deadlineMs: number;
  /** Sets the messages' visibility timeout; resolves when done (failures are its own to report). */
  readonly extend: (visibilityTimeoutSeconds: number) => Promise<void>;
  /** @default the system clock */
  readonly clock?: Clock;
  /** Overrides the clock's time (tests of the schedule alone). */
  readonly now?: () => number;
}

/**
 * Keeps one batch's messages hidden while its handler runs. Lambda's event source never does this
 * (a function outlives no visibility timeout, which AWS asks to be 6 times the function timeout),
 * but a worker may drain a queue whose visibility timeout is shorter than the work; without it SQS
 * would hand the message to another poller mid-work. Each extension hides the messages for another
 * visibility timeout, cut to the time the function has left, so a batch that times out returns its
 * messages as Lambda would, no later. `settle()` ends it and waits for an extension in progress, so
 * none lands after the batch's outcome (a delete, or a retry delay set by the handler).
 */
export class VisibilityKeeper {
  private readonly settings: VisibilityKeeperSettings;
  private readonly now: () => number;
  private readonly clock: Clock;
  private timer: unknown;
  private extending: Promise<void> | undefined;
  private settled = false;
  /** Extensions made so far. */
  extensions = 0;

  constructor(settings: VisibilityKeeperSettings) {
    if (!(settings.extendAfterFraction > 0 && settings.extendAfterFraction < 1)) {
      throw new RangeError(
        `extendAfterFraction must be between 0 and 1, got ${settings.extendAfterFraction}`,
      );
    }
    this.settings = settings;
    this.clock = settings.clock ?? systemClock;
    this.now = settings.now ?? (() => this.clock.now());
    this.schedule(settings.receivedAtMs, settings.visibilityTimeoutSeconds);
  }

  /** Plans the next extension, given when the messages were last hidden and for how long. */
  private schedule(hiddenAtMs: number, forSeconds: number): void {
    // Already hidden until the deadline: nothing more to do, the function times out first.
    if (hiddenAtMs + forSeconds * 1000 >= this.settings.deadlineMs) return;
    const dueAtMs = hiddenAtMs + forSeconds * 1000 * this.settings.extendAfterFraction;
    this.timer = this.clock.setTimeout(() => this.extendNow(), Math.max(0, dueAtMs - this.now()));
    // A pending extension must not keep a process alive that is otherwise done.
    this.clock.unref(this.timer);
  }

  private extendNow(): void {
    this.timer = undefined;
    if (this.settled) return;
    const startedAtMs = this.now();
    const remainingMs = this.settings.deadlineMs - startedAtMs;
    if (remainingMs <= 0) return;
    const seconds = Math.min(this.settings.visibilityTimeoutSeconds, Math.ceil(remainingMs / 1000));
    this.extending = this.settings.extend(seconds).then(
      () => {
        this.extensions += 1;
        this.extending = undefined;
        if (!this.settled) this.schedule(startedAtMs, seconds);
      },
      () => {
        this.extending = undefined;
        if (!this.settled) this.schedule(startedAtMs, seconds);
      },
    );
  }

  /** Stops extending; resolves once no extension is in progress. */
  async settle(): Promise<void> {
    this.settled = true;
    this.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.extending;
  }
}

export interface StopReleaseSettings {
  /** Sets the visibility timeout of the handles; resolves with how many were changed. */
  readonly change: (receiptHandles: readonly string[], visibilityTimeoutSeconds: number) => Promise<number>;
  /** Told after each release how many messages were made visible and how many could not be. */
  readonly onReleased?: (released: number, failed: number) => void;
  readonly now?: () => number;
}

/** Extra hold past the last parked receive's wait: its response may take a moment to arrive. */
const HOLD_MARGIN_SECONDS = 1;

/**
 * Hands back, for another worker, the messages a stopping worker's receives bring after the stop
 * began. Not simply visibility 0 at once: this worker's other receives may still be parked at SQS,
 * and SQS hands a message made visible to one of them, which counts as another receive. On
 * LocalStack a message released at once went through every parked receive of a 5-poller worker
 * and on to the dead-letter queue (maxReceiveCount 5) without ever being processed. So while other
 * receives of this worker are parked, a message is held (hidden until they have all ended) and
 * made visible the moment the last one returns: one receive per message, and a delay of at most
 * the long-poll wait. Visibility changes run one after another, so a release never lands before
 * the hold it ends.
 */
export class StopRelease {
  private readonly settings: StopReleaseSettings;
  private readonly now: () => number;
  private held: string[] = [];
  private chain: Promise<void> = Promise.resolve();
  /** Messages made visible again. */
  released = 0;
  /** Messages that could not be made visible: they return after their visibility timeout. */
  failures = 0;

  constructor(settings: StopReleaseSettings) {
    this.settings = settings;
    this.now = settings.now ?? Date.now;
  }

  /**
   * Takes messages received after the stop began. `parkedUntilMs`: when the last other receive of
   * this worker still at SQS ends its wait, or undefined when none is.
   */
  setAside(receiptHandles: readonly string[], parkedUntilMs: number | undefined): Promise<void> {
    if (parkedUntilMs === undefined) return this.releaseAll(receiptHandles);
    this.held.push(...receiptHandles);
    const seconds = Math.max(1, Math.ceil((parkedUntilMs - this.now()) / 1000) + HOLD_MARGIN_SECONDS);
    // A failed hold leaves the receive's own visibility timeout, still ended by the release.
    return this.enqueue(async () => {
      await this.settings.change(receiptHandles, seconds);
    });
  }

  /** Makes every held message visible now: call it when no receive of this worker is parked. */
  releaseAll(more: readonly string[] = []): Promise<void> {
    const handles = [...this.held.splice(0), ...more];
    if (handles.length === 0) return this.chain;
    return this.enqueue(async () => {
      const changed = await this.settings.change(handles, 0);
      this.released += changed;
      this.failures += handles.length - changed;
      this.settings.onReleased?.(changed, handles.length - changed);
    });
  }

  /** Resolves when every visibility change asked for so far is done. */
  idle(): Promise<void> {
    return this.chain;
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    this.chain = this.chain.then(step, step);
    return this.chain;
  }
}
