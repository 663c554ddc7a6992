/**
 * Makes a worker honour `courier pause`: reads the queue's `courier:paused` tag every few seconds
 * and pauses or resumes the event source to match. A read that fails keeps the current state (an
 * unreachable endpoint must not resume a paused consumer, nor pause a running one).
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import { readQueuePause } from "../deployment/consumer-pause.ts";

/** How often a worker reads its queue's pause tag. */
export const DEFAULT_PAUSE_POLL_MS = 3_000;

export interface Pausable {
  pause(): void;
  resume(): void;
  readonly paused: boolean;
}

export interface PauseWatch {
  /** Stops watching; the source stays as it is. */
  stop(): void;
  /** Resolves after the first read, so a worker started while paused never receives. */
  readonly ready: Promise<void>;
}

export function watchPause(options: {
  readonly sqs: SQSClient;
  readonly queueUrl: string;
  readonly source: Pausable;
  readonly intervalMs?: number;
  readonly onChange?: (paused: boolean) => void;
  readonly onError?: (error: unknown) => void;
}): PauseWatch {
  const { sqs, queueUrl, source } = options;
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const check = async () => {
    try {
      const { paused } = await readQueuePause(sqs, queueUrl);
      if (stopped || paused === source.paused) return;
      if (paused) source.pause();
      else source.resume();
      options.onChange?.(paused);
    } catch (error) {
      options.onError?.(error);
    }
  };
  const loop = async () => {
    if (stopped) return;
    await check();
    if (!stopped) timer = setTimeout(loop, options.intervalMs ?? DEFAULT_PAUSE_POLL_MS);
    timer?.unref?.();
  };
  const ready = check().then(() => {
    if (!stopped) {
      timer = setTimeout(loop, options.intervalMs ?? DEFAULT_PAUSE_POLL_MS);
      timer.unref?.();
    }
  });
  return {
    ready,
    stop: () => {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
  };
}
