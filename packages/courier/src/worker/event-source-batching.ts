/**
 * Gathering one batch the way Lambda's SQS event source does: long-poll until the first messages
 * arrive, then keep receiving until the batch is full or the batching window, counted from the
 * first message, has elapsed. ReceiveMessage returns at most 10 messages, so a batch larger than
 * 10 takes several receives.
 */
import type { Message } from "@aws-sdk/client-sqs";

/** SQS limits on one ReceiveMessage call. */
export const MAX_MESSAGES_PER_RECEIVE = 10;
export const MAX_WAIT_TIME_SECONDS = 20;

export interface BatchingSettings {
  /** Records per invocation; may exceed 10 (Lambda allows up to 10,000 with a window). */
  readonly batchSize: number;
  /** How long to keep gathering after the first message; 0 invokes with the first receive's messages. */
  readonly maxBatchingWindowSeconds: number;
  /** Long-poll wait while nothing has arrived yet; at most 20. */
  readonly waitTimeSeconds: number;
}

export interface ReceiveRequest {
  readonly maxMessages: number;
  readonly waitTimeSeconds: number;
}

export type NextStep =
  | { readonly kind: "receive"; readonly request: ReceiveRequest }
  | { readonly kind: "invoke" };

/**
 * What to do next, given how many messages are gathered and when the first arrived.
 * Pure, so the window rules are tested without a clock.
 */
export function nextStep(
  settings: BatchingSettings,
  gathered: number,
  firstArrivalMs: number | undefined,
  nowMs: number,
): NextStep {
  if (gathered >= settings.batchSize) return { kind: "invoke" };
  const maxMessages = Math.min(MAX_MESSAGES_PER_RECEIVE, settings.batchSize - gathered);
  if (gathered === 0 || firstArrivalMs === undefined) {
    return {
      kind: "receive",
      request: { maxMessages, waitTimeSeconds: Math.min(MAX_WAIT_TIME_SECONDS, settings.waitTimeSeconds) },
    };
  }
  const remainingMs = firstArrivalMs + settings.maxBatchingWindowSeconds * 1000 - nowMs;
  if (remainingMs <= 0) return { kind: "invoke" };
  // WaitTimeSeconds is whole seconds: wait no longer than the window has left.
  const waitTimeSeconds = Math.min(MAX_WAIT_TIME_SECONDS, Math.floor(remainingMs / 1000));
  return { kind: "receive", request: { maxMessages, waitTimeSeconds } };
}

export interface GatherDependencies {
  /** One ReceiveMessage. A stop does not abort it: see `gatherBatch`. */
  readonly receive: (request: ReceiveRequest) => Promise<Message[]>;
  /**
   * True while the source is paused: no receive is started, and what is gathered so far is invoked
   * at once rather than held (hidden) for the rest of the window. A receive already made is awaited.
   */
  readonly holding?: () => boolean;
  readonly now: () => number;
  readonly sleep: (ms: number, signal: AbortSignal) => Promise<void>;
}

/** What one gathering produced. */
export interface Gathered {
  /** Messages received before the stop began: invoke the handler with them. */
  readonly batch: Message[];
  /**
   * Messages a receive brought after the stop began: the worker is going away, so they are to be
   * released (made visible again) at once, neither processed nor left hidden.
   */
  readonly afterStop: Message[];
  /** When the first message of `batch` (or `afterStop`) arrived, for visibility bookkeeping. */
  readonly firstArrivalMs?: number;
}

/** Pause between short polls that found nothing while less than a second of window is left. */
const SHORT_POLL_PAUSE_MS = 100;

/**
 * Gathers one batch. `stopping` aborts when a graceful stop begins: no receive is started after
 * it, but a receive already made is awaited, not aborted. Aborting a long poll on the client side
 * does not withdraw it at SQS, which may still hand it a message that nobody then reads and that
 * stays hidden for its visibility timeout; awaiting it keeps the receipt handles, so whatever it
 * brings is returned in `afterStop` to be released. Messages gathered before the stop are
 * returned in `batch` to be processed, not dropped: they are invisible to everyone else.
 */
export async function gatherBatch(
  settings: BatchingSettings,
  deps: GatherDependencies,
  stopping: AbortSignal,
): Promise<Gathered> {
  const gathered: Message[] = [];
  let firstArrivalMs: number | undefined;
  while (!stopping.aborted) {
    const step = nextStep(settings, gathered.length, firstArrivalMs, deps.now());
    if (step.kind === "invoke") break;
    if (deps.holding?.()) break;
    let messages: Message[];
    try {
      messages = await deps.receive(step.request);
    } catch (error) {
      if (stopping.aborted) break;
      // With messages in hand, invoke with them rather than let a receive error strand them.
      if (gathered.length > 0) break;
      throw error;
    }
    if (messages.length > 0) {
      firstArrivalMs ??= deps.now();
      if (stopping.aborted) {
        return { batch: gathered, afterStop: messages, firstArrivalMs };
      }
      gathered.push(...messages);
    } else if (gathered.length > 0 && step.request.waitTimeSeconds === 0) {
      // A short poll found nothing and the window has under a second left: pause instead of spinning.
      await deps.sleep(SHORT_POLL_PAUSE_MS, stopping).catch(() => undefined);
    }
  }
  return { batch: gathered, afterStop: [], ...(firstArrivalMs !== undefined ? { firstArrivalMs } : {}) };
}
