/**
 * One redrive request, as the redrive function receives it and the CLI builds it: validated with
 * zod, resolved to the consumer's DLQ/source pair, and run in the requested mode.
 */
import type { SQSClient } from "@aws-sdk/client-sqs";
import * as z from "zod";
import { type BulkRedriveProgress, type BulkRedriveSummary, redriveInBulk } from "../lib/redrive/bulk.ts";
import { approximateDepth } from "../lib/redrive/queue-depth.ts";
import {
  type RedriveProgress,
  redriveSelectively,
  type SelectiveRedriveSummary,
} from "../lib/redrive/selective.ts";
import { pairFor, type RedriveConfig } from "./redrive-pairs.ts";

export const redriveRequestSchema = z
  .strictObject({
    consumer: z.string().min(1),
    mode: z.enum(["bulk", "selective"]).default("selective"),
    /**
     * "dlq": what the consumer failed; "subscription-dlq": what SNS could not deliver to its queue,
     * sent to the queue as the raw envelope (selective only: a move task cannot unwrap).
     */
    source: z.enum(["dlq", "subscription-dlq"]).default("dlq"),
    type: z.string().min(1).optional(),
    olderThanSeconds: z.number().nonnegative().optional(),
    errorClass: z.string().min(1).optional(),
    /** Only messages of this cause (error class plus masked message, see causeOf). */
    cause: z.string().min(1).optional(),
    /** Only these DLQ MessageIds: a hand-picked set. */
    messageIds: z.array(z.string().min(1)).min(1).max(1000).optional(),
    max: z.number().int().positive().optional(),
    dryRun: z.boolean().default(false),
    /** Bulk only: SQS's MaxNumberOfMessagesPerSecond (1 to 500). */
    maxMessagesPerSecond: z.number().int().min(1).max(500).optional(),
  })
  .refine(
    (r) =>
      r.mode === "selective" ||
      (r.type === undefined &&
        r.olderThanSeconds === undefined &&
        r.errorClass === undefined &&
        r.cause === undefined &&
        r.messageIds === undefined &&
        r.max === undefined),
    {
      message:
        "bulk mode moves every message; type, olderThanSeconds, errorClass, cause, messageIds and max need mode selective",
    },
  )
  .refine((r) => r.mode === "selective" || r.source === "dlq", {
    message: "a subscription DLQ holds SNS's dead letters, which must be unwrapped: use mode selective",
  });
export type RedriveRequest = z.input<typeof redriveRequestSchema>;

export class InvalidRedriveRequestError extends Error {
  override readonly name = "InvalidRedriveRequestError";
}

/** What a bulk dry run reports: the DLQ's depth, which a move task would move. */
export interface BulkDryRunSummary {
  readonly mode: "bulk";
  readonly moved: number;
  readonly returned: 0;
  readonly skipped: 0;
  readonly quarantined: 0;
  readonly failed: 0;
  readonly duplicates: 0;
  readonly dryRun: true;
  readonly cancelled: false;
}

export type RedriveSummary = SelectiveRedriveSummary | BulkRedriveSummary | BulkDryRunSummary;

export interface RedriveDependencies extends RedriveConfig {
  readonly sqs: SQSClient;
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: RedriveProgress | BulkRedriveProgress) => void;
  /** Report each message; default: in a dry run only. */
  readonly includeItems?: boolean;
  /**
   * The consumer's maxReceiveCount, for the reason text of messages SQS moved by itself.
   * @default the pair's `maxReceiveCount`, where it has one
   */
  readonly sourceMaxReceiveCount?: number;
}

export async function runRedriveRequest(input: unknown, deps: RedriveDependencies): Promise<RedriveSummary> {
  const parsed = redriveRequestSchema.safeParse(input);
  if (!parsed.success) {
    throw new InvalidRedriveRequestError(
      `invalid redrive request: ${z.prettifyError(parsed.error).replace(/\n/g, "; ")}`,
    );
  }
  const request = parsed.data;
  const pair = pairFor(deps.pairs, request.consumer);
  const sourceMaxReceiveCount = deps.sourceMaxReceiveCount ?? pair.maxReceiveCount;
  if (request.mode === "bulk") {
    if (request.dryRun) {
      const depth = await approximateDepth(deps.sqs, pair.dlqUrl);
      return {
        mode: "bulk",
        moved: depth,
        returned: 0,
        skipped: 0,
        quarantined: 0,
        failed: 0,
        duplicates: 0,
        dryRun: true,
        cancelled: false,
      };
    }
    return redriveInBulk({
      sqs: deps.sqs,
      dlqArn: pair.dlqArn,
      queueArn: pair.queueArn,
      ...(request.maxMessagesPerSecond ? { maxMessagesPerSecond: request.maxMessagesPerSecond } : {}),
      ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
      ...(deps.signal ? { signal: deps.signal } : {}),
    });
  }
  const fromSubscription = request.source === "subscription-dlq";
  if (fromSubscription && !pair.subscriptionDlqUrl) {
    throw new InvalidRedriveRequestError(
      `consumer "${request.consumer}" has no subscription DLQ in this deployment; redeploy the stack`,
    );
  }
  return redriveSelectively({
    sqs: deps.sqs,
    dlqUrl: fromSubscription ? (pair.subscriptionDlqUrl as string) : pair.dlqUrl,
    ...(fromSubscription ? { deliveryFailure: true } : {}),
    queueUrl: pair.queueUrl,
    filter: {
      ...(request.type ? { type: request.type } : {}),
      ...(request.olderThanSeconds !== undefined ? { olderThanSeconds: request.olderThanSeconds } : {}),
      ...(request.errorClass ? { errorClass: request.errorClass } : {}),
      ...(request.cause ? { cause: request.cause } : {}),
      ...(request.messageIds ? { messageIds: request.messageIds } : {}),
    },
    ...(request.max ? { max: request.max } : {}),
    dryRun: request.dryRun,
    maxRedrives: deps.maxRedrives,
    ...(deps.includeItems !== undefined ? { includeItems: deps.includeItems } : {}),
    ...(sourceMaxReceiveCount !== undefined ? { sourceMaxReceiveCount } : {}),
    ...(deps.onProgress ? { onProgress: deps.onProgress } : {}),
    ...(deps.signal ? { signal: deps.signal } : {}),
  });
}
