/**
 * The selective mover: receives from a DLQ, keeps the messages the filter selects, sends them to
 * the source queue with their body, attributes and lineage, and only then deletes them from the
 * DLQ, entry by entry for the sends SQS confirmed. A crash between the send and the delete leaves
 * a duplicate (the consumers are idempotent on eventId), never a loss.
 */
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from "@aws-sdk/client-sqs";
/** A message redriven more often than this stays in the DLQ (courier's topology sets its own). */
export const DEFAULT_MAX_REDRIVES = 3;

import { LINEAGE_ATTRIBUTE, type Lineage } from "../consumer/failure-attributes.ts";
import { type DlqMessage, describeDlqMessage } from "./dlq-message.ts";
import { classify, type RedriveFilter } from "./filter.ts";
import { batchesWithinLimits, MAX_BATCH_ENTRIES, nextLineage, outgoingEntry } from "./outgoing.ts";
import { approximateDepth } from "./queue-depth.ts";
import { releaseMessages } from "./receipts.ts";
import { unwrapSnsDeadLetter } from "./sns-dead-letter.ts";
import { redriveSpan } from "./trace.ts";

export type RedriveAction = "moved" | "returned" | "skipped" | "quarantined" | "failed";

export interface RedriveItem {
  readonly messageId: string;
  readonly action: RedriveAction;
  readonly type?: string;
  readonly eventId?: string;
  readonly errorClass: string;
  readonly redriveCount: number;
  /**
   * Why it was skipped, quarantined or failed; for a returned message, its new failure; for a moved
   * message whose DLQ copy remained, why.
   */
  readonly reason?: string;
}

export interface RedriveCounts {
  /** Sent to the source queue (in a dry run: would be). */
  readonly moved: number;
  /**
   * Moved by this run and back in the DLQ before it ended (the consumer failed them again): left
   * there, not moved a second time. Each is also counted in `moved`.
   */
  readonly returned: number;
  /** Left in the DLQ because the filter did not select them. */
  readonly skipped: number;
  /** Left in the DLQ because they were redriven `maxRedrives` times already. */
  readonly quarantined: number;
  /** Selected, but the send was refused; still in the DLQ. */
  readonly failed: number;
  /** Moved, but the DLQ delete failed: a copy stays in the DLQ and a later redrive duplicates it. */
  readonly duplicates: number;
}

export interface RedriveProgress extends RedriveCounts {
  /** Distinct messages received from the DLQ so far. */
  readonly received: number;
  /** Approximate DLQ depth when the run started (capped at `max`), for a progress bar. */
  readonly total: number;
}

export interface SelectiveRedriveSummary extends RedriveCounts {
  readonly mode: "selective";
  readonly dryRun: boolean;
  /** True when the AbortSignal stopped the run early. */
  readonly cancelled: boolean;
  readonly items?: RedriveItem[];
}

/** A message the mover sent to the source and has not yet deleted from the DLQ. */
export interface SentMessage {
  readonly messageId: string;
  readonly receiptHandle: string;
  readonly lineage: Lineage;
}

export interface SelectiveRedriveOptions {
  readonly sqs: SQSClient;
  readonly dlqUrl: string;
  readonly queueUrl: string;
  readonly filter?: RedriveFilter;
  /** Most messages to move (moved + failed); default: all. */
  readonly max?: number;
  readonly dryRun?: boolean;
  /** Redrive limit; default DEFAULT_MAX_REDRIVES; courier passes the topology's. */
  readonly maxRedrives?: number;
  /**
   * How long received messages stay invisible. Messages the run leaves in the DLQ are held until
   * the end (then released) so that one run never counts a message twice: long enough for the run.
   */
  readonly visibilityTimeoutSeconds?: number;
  /** Long-poll wait per receive; long polling asks every SQS server, so an empty answer means empty. */
  readonly waitTimeSeconds?: number;
  /** The run ends after this many receives in a row bring nothing new. */
  readonly emptyReceivesToStop?: number;
  /** Batches in flight at once (each: receive, send, delete); default 4. */
  readonly concurrency?: number;
  /** Report each message in `items`; default: in a dry run only. */
  readonly includeItems?: boolean;
  /** The source queue's maxReceiveCount, for the reason text of messages SQS moved by itself. */
  readonly sourceMaxReceiveCount?: number;
  /**
   * `dlqUrl` is a subscription's DLQ: each message is sent to `queueUrl` as the raw envelope the
   * queue would have received from SNS (`unwrapSnsDeadLetter`), with its attributes and lineage.
   */
  readonly deliveryFailure?: boolean;
  readonly onProgress?: (progress: RedriveProgress) => void;
  readonly signal?: AbortSignal;
  readonly hooks?: {
    /** Runs after a send is confirmed and before the DLQ delete: a test injects a crash here. */
    readonly afterSendBeforeDelete?: (sent: readonly SentMessage[]) => void | Promise<void>;
  };
  readonly now?: () => Date;
}

export const SELECTIVE_DEFAULTS = {
  concurrency: 4,
  visibilityTimeoutSeconds: 300,
  waitTimeSeconds: 1,
  emptyReceivesToStop: 2,
} as const;

export async function redriveSelectively(options: SelectiveRedriveOptions): Promise<SelectiveRedriveSummary> {
  const { sqs, dlqUrl, queueUrl, signal } = options;
  const filter = options.filter ?? {};
  const max = options.max ?? Number.POSITIVE_INFINITY;
  const dryRun = options.dryRun ?? false;
  const maxRedrives = options.maxRedrives ?? DEFAULT_MAX_REDRIVES;
  const includeItems = options.includeItems ?? dryRun;
  const now = options.now ?? (() => new Date());
  const emptyReceivesToStop = options.emptyReceivesToStop ?? SELECTIVE_DEFAULTS.emptyReceivesToStop;
  const concurrency = options.concurrency ?? SELECTIVE_DEFAULTS.concurrency;

  const counts = { moved: 0, returned: 0, skipped: 0, quarantined: 0, failed: 0, duplicates: 0 };
  // Lineage ids (the first DLQ MessageId, which every trip keeps) of what this run sent back: a
  // message that fails again returns under a new MessageId but the same lineage id.
  const sentBack = new Set<string>();
  const items: RedriveItem[] = [];
  const seen = new Set<string>();
  // Receipt handles of messages that stay in the DLQ; released together when the run ends.
  const held: string[] = [];
  // Handles received but not yet settled, released too if the run stops half-way through a batch.
  const unsettled = new Set<string>();
  const total = options.onProgress ? Math.min(max, await approximateDepth(sqs, dlqUrl)) : 0;

  const record = (message: DlqMessage, action: Exclude<RedriveAction, "returned">, reason?: string) => {
    counts[action] += 1;
    if (includeItems) items.push(itemOf(message, action, reason));
  };
  const report = () => options.onProgress?.({ ...counts, received: seen.size, total });

  let cancelled = false;
  // Slots of `max` taken by batches being received, so concurrent workers never overshoot it.
  let reserved = 0;
  let stopping = false;

  // Each worker receives a batch, settles it, and goes again; SQS calls are latency-bound, so a
  // few workers in one process keep several batches in flight.
  const worker = async () => {
    let emptyStreak = 0;
    while (!stopping) {
      if (signal?.aborted) {
        cancelled = true;
        return;
      }
      const room = Math.min(MAX_BATCH_ENTRIES, max - counts.moved - counts.failed - reserved);
      if (room <= 0) return;
      reserved += room;
      try {
        const fresh = freshMessages(await receive(sqs, dlqUrl, options, room));
        if (fresh.length === 0) {
          emptyStreak += 1;
          if (emptyStreak >= emptyReceivesToStop) return;
          continue;
        }
        emptyStreak = 0;
        for (const m of fresh) unsettled.add(m.receiptHandle);
        await settle(fresh);
        for (const m of fresh) unsettled.delete(m.receiptHandle);
      } finally {
        // Held until the batch is counted, so no other worker receives past `max` meanwhile.
        reserved -= room;
      }
      report();
    }
  };

  const outcomes = await Promise.allSettled(
    Array.from({ length: concurrency }, async () => {
      try {
        await worker();
      } catch (error) {
        stopping = true; // the other workers finish the batch in hand and stop
        throw error;
      }
    }),
  );
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
  if (failure) {
    // Give back what this run still holds so a rerun can start at once; a message already sent
    // but not deleted is then redriven again: a duplicate, never a loss.
    await releaseMessages(sqs, dlqUrl, [...new Set([...held, ...unsettled])]);
    throw failure.reason;
  }
  await releaseMessages(sqs, dlqUrl, held);
  report();
  return {
    mode: "selective",
    ...counts,
    dryRun,
    cancelled,
    ...(includeItems ? { items } : {}),
  };

  /** A subscription DLQ's message as the queue would have received it; a DLQ's as it is. */
  function readable(message: Message): Message {
    return options.deliveryFailure ? unwrapSnsDeadLetter(message) : message;
  }

  /**
   * Drops what this run has seen already (held, then visible again after the visibility timeout)
   * and holds what it moved and the consumer sent back, reporting each such message once.
   */
  function freshMessages(received: Message[]): DlqMessage[] {
    const fresh: DlqMessage[] = [];
    for (const message of received) {
      if (!message.MessageId || !message.ReceiptHandle) continue;
      if (seen.has(message.MessageId)) {
        held.push(message.ReceiptHandle);
        continue;
      }
      seen.add(message.MessageId);
      // A new MessageId carrying the lineage of a message this run sent back: it failed again.
      // (The DLQ copy left by a failed delete keeps its old MessageId, already seen above.)
      const lineageId = sentBack.size > 0 ? lineageIdOf(message) : undefined;
      if (lineageId !== undefined && sentBack.has(lineageId)) {
        held.push(message.ReceiptHandle);
        const described = describeDlqMessage(readable(message), options);
        counts.returned += 1;
        if (includeItems) items.push(itemOf(described, "returned", described.reason));
        continue;
      }
      fresh.push(describeDlqMessage(readable(message), options));
    }
    return fresh;
  }

  /** Classifies a batch, holds what stays, and moves the rest: send, then delete what was sent. */
  async function settle(fresh: readonly DlqMessage[]) {
    const toSend: Outgoing[] = [];
    const at = now();
    for (const message of fresh) {
      const verdict = classify(message, filter, { maxRedrives, now: at });
      if (verdict.action !== "move") {
        held.push(message.receiptHandle);
        record(message, verdict.action === "skip" ? "skipped" : "quarantined", verdict.reason);
        continue;
      }
      if (dryRun) {
        held.push(message.receiptHandle);
        record(message, "moved");
        continue;
      }
      const lineage = nextLineage(message, at);
      const entry = outgoingEntry(message, lineage, `m${toSend.length}`, {
        fifo: queueUrl.endsWith(".fifo"),
      });
      if (!entry.ok) {
        held.push(message.receiptHandle);
        record(message, "failed", entry.reason);
        continue;
      }
      toSend.push({ message, lineage, entry: entry.entry, bytes: entry.bytes });
    }
    for (const batch of batchesWithinLimits(toSend)) {
      await sendThenDelete(batch);
    }
  }

  async function sendThenDelete(batch: Outgoing[]) {
    const byId = new Map(batch.map((b) => [b.entry.Id, b]));
    // A PRODUCER span per message sent back, linked to where it was first produced: the journey
    // goes on from the DLQ with the same eventId (the body, and its traceparent, move unchanged).
    const spans = new Map(
      batch.map((b) => [
        b.entry.Id,
        redriveSpan(queueUrl, b.message, b.lineage, options.deliveryFailure ? "subscription-dlq" : "dlq"),
      ]),
    );
    let result: SendMessageBatchCommandOutput;
    try {
      result = await sqs.send(
        new SendMessageBatchCommand({ QueueUrl: queueUrl, Entries: batch.map((b) => b.entry) }),
      );
    } catch (error) {
      for (const span of spans.values()) span?.fail(error);
      throw error;
    }
    for (const failure of result.Failed ?? []) {
      spans.get(failure.Id)?.fail(new Error(`send refused: ${failure.Code ?? "error"}`));
      spans.delete(failure.Id);
    }
    for (const success of result.Successful ?? []) {
      if (success.Id) spans.get(success.Id)?.sent(success.MessageId);
    }
    for (const failure of result.Failed ?? []) {
      const failed = byId.get(failure.Id);
      if (!failed) continue;
      held.push(failed.message.receiptHandle);
      record(
        failed.message,
        "failed",
        `send refused: ${failure.Code ?? "error"}: ${failure.Message ?? ""}`.trim(),
      );
    }
    const sent = (result.Successful ?? []).flatMap((s) => {
      const b = byId.get(s.Id);
      return b ? [b] : [];
    });
    if (sent.length === 0) return;
    for (const s of sent) sentBack.add(s.lineage.originalMessageId);
    await options.hooks?.afterSendBeforeDelete?.(
      sent.map((s) => ({
        messageId: s.message.messageId,
        receiptHandle: s.message.receiptHandle,
        lineage: s.lineage,
      })),
    );
    const deleted = await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: dlqUrl,
        Entries: sent.map((s) => ({ Id: s.entry.Id, ReceiptHandle: s.message.receiptHandle })),
      }),
    );
    const notDeleted = new Map((deleted.Failed ?? []).map((f) => [f.Id, f]));
    for (const s of sent) {
      const failure = notDeleted.get(s.entry.Id);
      record(
        s.message,
        "moved",
        failure ? `DLQ delete failed (${failure.Code}); a duplicate stays in the DLQ` : undefined,
      );
      if (failure) counts.duplicates += 1;
    }
  }
}

interface Outgoing {
  readonly message: DlqMessage;
  readonly lineage: Lineage;
  readonly entry: SendMessageBatchRequestEntry;
  readonly bytes: number;
}

function itemOf(message: DlqMessage, action: RedriveAction, reason: string | undefined): RedriveItem {
  return {
    messageId: message.messageId,
    action,
    ...(message.type ? { type: message.type } : {}),
    ...(message.eventId ? { eventId: message.eventId } : {}),
    errorClass: message.errorClass,
    redriveCount: message.redriveCount,
    ...(reason ? { reason } : {}),
  };
}

async function receive(
  sqs: SQSClient,
  dlqUrl: string,
  options: SelectiveRedriveOptions,
  maxMessages: number,
): Promise<Message[]> {
  const result = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: dlqUrl,
      MaxNumberOfMessages: maxMessages,
      VisibilityTimeout: options.visibilityTimeoutSeconds ?? SELECTIVE_DEFAULTS.visibilityTimeoutSeconds,
      WaitTimeSeconds: options.waitTimeSeconds ?? SELECTIVE_DEFAULTS.waitTimeSeconds,
      MessageSystemAttributeNames: ["All"],
      MessageAttributeNames: ["All"],
    }),
  );
  return result.Messages ?? [];
}

/** The lineage id a message carries, if any, without describing the whole message. */
function lineageIdOf(message: Message): string | undefined {
  const text = message.MessageAttributes?.[LINEAGE_ATTRIBUTE]?.StringValue;
  if (!text) return undefined;
  try {
    const id = (JSON.parse(text) as { originalMessageId?: unknown }).originalMessageId;
    return typeof id === "string" ? id : undefined;
  } catch {
    return undefined;
  }
}
