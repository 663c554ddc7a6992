/**
 * Lists what a DLQ holds without changing it: receives with a short visibility timeout, then
 * makes every message visible again. Each receive does raise a message's ApproximateReceiveCount.
 */
import { ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { FailureReason, Lineage } from "../consumer/failure-attributes.ts";
import { causeOf } from "./cause.ts";
import { ageSeconds, describeDlqMessage } from "./dlq-message.ts";
import { MAX_BATCH_ENTRIES } from "./outgoing.ts";
import { approximateDepth } from "./queue-depth.ts";
import { releaseMessages } from "./receipts.ts";
import { unwrapSnsDeadLetter } from "./sns-dead-letter.ts";

export interface PeekOptions {
  readonly sqs: SQSClient;
  readonly dlqUrl: string;
  /** Most messages to list; default 50. */
  readonly max?: number;
  /** Long enough to finish listing; the messages are released at the end anyway. */
  readonly visibilityTimeoutSeconds?: number;
  readonly waitTimeSeconds?: number;
  readonly emptyReceivesToStop?: number;
  /** The source queue's maxReceiveCount, for the reason text of messages SQS moved by itself. */
  readonly sourceMaxReceiveCount?: number;
  /**
   * Stop as soon as the messages read reach the depth read at the start, instead of after
   * `emptyReceivesToStop` empty receives: quicker for a live view that reads again anyway; a
   * message sent meanwhile waits for the next read. @default false
   */
  readonly stopAtDepth?: boolean;
  /** `dlqUrl` is a subscription's DLQ: list SNS's delivery failures as the queue would have received them. */
  readonly deliveryFailure?: boolean;
  readonly now?: () => Date;
  /**
   * Most body and attribute bytes to keep in all: past it a message is listed with its reason but
   * an empty body (`bodyOmitted`), so a live view of 500 messages of 1 MiB stays small. @default unbounded
   */
  readonly keepBytes?: number;
}

export interface PeekedMessage {
  readonly messageId: string;
  /** Seconds since the message was first seen (sent or failed, whichever came first). */
  readonly ageSeconds?: number;
  readonly type?: string;
  readonly eventId?: string;
  /** The request's correlation id, from the envelope's trace: search the logs with it. */
  readonly correlationId?: string;
  readonly errorClass: string;
  /** Error class plus the masked error message: what the console groups by (see causeOf). */
  readonly cause: string;
  readonly reason: string;
  /**
   * Receives before the message was dead-lettered: from `courier.failure` when the runtime recorded
   * it, else SQS's ApproximateReceiveCount without this peek's own receive (earlier peeks included).
   */
  readonly receiveCount: number;
  readonly redriveCount: number;
  readonly failure?: FailureReason;
  readonly lineage?: Lineage;
  readonly body: string;
  /** The message's attributes (string and number values; binary ones as "(binary)"). */
  readonly attributes: Record<string, string>;
  /** When the message was first seen (sent or failed, whichever came first). */
  readonly firstSeenAt?: string;
  /** A FIFO DLQ's MessageGroupId. */
  readonly groupId?: string;
  /** True when the body and attributes were not kept (over `keepBytes`). */
  readonly bodyOmitted?: boolean;
}

export interface PeekResult {
  /** ApproximateNumberOfMessages of the DLQ before the peek. */
  readonly approximateDepth: number;
  readonly messages: PeekedMessage[];
}

export async function peekDlq(options: PeekOptions): Promise<PeekResult> {
  const { sqs, dlqUrl } = options;
  const max = options.max ?? 50;
  const now = options.now ?? (() => new Date());
  const emptyReceivesToStop = options.emptyReceivesToStop ?? 2;
  const depth = await approximateDepth(sqs, dlqUrl);
  const messages = new Map<string, PeekedMessage>();
  const handles: string[] = [];
  let emptyStreak = 0;
  let keptBytes = 0;
  try {
    const enough = options.stopAtDepth ? Math.min(max, Math.max(depth, 1)) : max;
    while (messages.size < enough && emptyStreak < emptyReceivesToStop) {
      const result = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlqUrl,
          MaxNumberOfMessages: Math.min(MAX_BATCH_ENTRIES, max - messages.size),
          VisibilityTimeout: options.visibilityTimeoutSeconds ?? 30,
          WaitTimeSeconds: options.waitTimeSeconds ?? 1,
          MessageSystemAttributeNames: ["All"],
          MessageAttributeNames: ["All"],
        }),
      );
      let fresh = 0;
      for (const received of result.Messages ?? []) {
        if (received.ReceiptHandle) handles.push(received.ReceiptHandle);
        if (!received.MessageId || messages.has(received.MessageId)) continue;
        fresh += 1;
        const message = options.deliveryFailure ? unwrapSnsDeadLetter(received) : received;
        const m = describeDlqMessage(message, options);
        const age = ageSeconds(m, now());
        const attributes = Object.fromEntries(
          Object.entries(message.MessageAttributes ?? {}).map(([name, value]) => [
            name,
            value.StringValue ?? "(binary)",
          ]),
        );
        const body = message.Body ?? "";
        const bytes =
          Buffer.byteLength(body) + Object.values(attributes).reduce((n, v) => n + Buffer.byteLength(v), 0);
        const keep = options.keepBytes === undefined || keptBytes + bytes <= options.keepBytes;
        if (keep) keptBytes += bytes;
        messages.set(m.messageId, {
          messageId: m.messageId,
          ...(age !== undefined ? { ageSeconds: Math.floor(age) } : {}),
          ...(m.type ? { type: m.type } : {}),
          ...(m.eventId ? { eventId: m.eventId } : {}),
          ...(m.correlationId ? { correlationId: m.correlationId } : {}),
          errorClass: m.errorClass,
          cause: causeOf(m),
          reason: m.reason,
          receiveCount: m.failure?.receiveCount ?? Math.max(0, m.receiveCount - 1),
          redriveCount: m.redriveCount,
          ...(m.failure ? { failure: m.failure } : {}),
          ...(m.lineage ? { lineage: m.lineage } : {}),
          body: keep ? body : "",
          attributes: keep ? attributes : {},
          ...(m.firstSeenAt ? { firstSeenAt: m.firstSeenAt.toISOString() } : {}),
          ...(received.Attributes?.MessageGroupId ? { groupId: received.Attributes.MessageGroupId } : {}),
          ...(keep ? {} : { bodyOmitted: true }),
        });
      }
      emptyStreak = fresh === 0 ? emptyStreak + 1 : 0;
    }
  } finally {
    await releaseMessages(sqs, dlqUrl, handles);
  }
  return { approximateDepth: depth, messages: [...messages.values()] };
}
