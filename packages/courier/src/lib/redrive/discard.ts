/**
 * Deletes the DLQ messages a filter selects, for an operator who decided they must never run:
 * receives, deletes what matches (at most `max`), holds the rest and gives it back at the end.
 * The same filter as the selective mover, so "this group" means the same messages to both.
 */
import { DeleteMessageBatchCommand, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { type DlqMessage, describeDlqMessage } from "./dlq-message.ts";
import { classify, type RedriveFilter } from "./filter.ts";
import { MAX_BATCH_ENTRIES } from "./outgoing.ts";
import { approximateDepth } from "./queue-depth.ts";
import { releaseMessages } from "./receipts.ts";

export interface DiscardProgress {
  readonly received: number;
  readonly total: number;
  readonly deleted: number;
  readonly skipped: number;
  readonly failed: number;
}

export interface DiscardSummary extends DiscardProgress {
  readonly cancelled: boolean;
}

export interface DiscardOptions {
  readonly sqs: SQSClient;
  readonly dlqUrl: string;
  readonly filter: RedriveFilter;
  /** Never delete more than this: the count the operator confirmed. */
  readonly max: number;
  readonly visibilityTimeoutSeconds?: number;
  readonly waitTimeSeconds?: number;
  readonly emptyReceivesToStop?: number;
  readonly onProgress?: (progress: DiscardProgress) => void;
  readonly signal?: AbortSignal;
}

export async function discardSelectively(options: DiscardOptions): Promise<DiscardSummary> {
  const { sqs, dlqUrl } = options;
  const counts = { received: 0, deleted: 0, skipped: 0, failed: 0 };
  const total = Math.min(options.max, await approximateDepth(sqs, dlqUrl));
  const seen = new Set<string>();
  const held: string[] = [];
  let emptyStreak = 0;
  let cancelled = false;
  const report = () => options.onProgress?.({ ...counts, total });
  try {
    while (counts.deleted + counts.failed < options.max && emptyStreak < (options.emptyReceivesToStop ?? 2)) {
      if (options.signal?.aborted) {
        cancelled = true;
        break;
      }
      const result = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlqUrl,
          MaxNumberOfMessages: MAX_BATCH_ENTRIES,
          VisibilityTimeout: options.visibilityTimeoutSeconds ?? 300,
          WaitTimeSeconds: options.waitTimeSeconds ?? 1,
          MessageSystemAttributeNames: ["All"],
          MessageAttributeNames: ["All"],
        }),
      );
      const fresh: DlqMessage[] = [];
      for (const message of result.Messages ?? []) {
        if (!message.MessageId || !message.ReceiptHandle) continue;
        if (seen.has(message.MessageId)) {
          held.push(message.ReceiptHandle);
          continue;
        }
        seen.add(message.MessageId);
        fresh.push(describeDlqMessage(message));
      }
      emptyStreak = fresh.length === 0 ? emptyStreak + 1 : 0;
      counts.received += fresh.length;
      const toDelete: DlqMessage[] = [];
      for (const message of fresh) {
        // No redrive limit applies to a delete: a quarantined message may be deleted too.
        const verdict = classify(message, options.filter, {
          maxRedrives: Number.POSITIVE_INFINITY,
          now: new Date(),
        });
        if (verdict.action === "move" && counts.deleted + counts.failed + toDelete.length < options.max) {
          toDelete.push(message);
        } else {
          held.push(message.receiptHandle);
          counts.skipped += 1;
        }
      }
      if (toDelete.length > 0) {
        const deleted = await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: dlqUrl,
            Entries: toDelete.map((m, i) => ({ Id: `d${i}`, ReceiptHandle: m.receiptHandle })),
          }),
        );
        counts.deleted += deleted.Successful?.length ?? 0;
        counts.failed += deleted.Failed?.length ?? 0;
      }
      report();
    }
  } finally {
    await releaseMessages(sqs, dlqUrl, held);
  }
  report();
  return { ...counts, total, cancelled };
}
