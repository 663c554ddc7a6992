/**
 * The redrive function: the operator invokes it with
 * `{ consumer, mode: "bulk" | "selective", source?: "dlq" | "subscription-dlq", type?, olderThanSeconds?, errorClass?, max?, dryRun? }`
 * and gets the summary back. It may touch only the DLQ/source pairs in COURIER_REDRIVE_PAIRS (set
 * by the CDK construct); the logic lives in lib/redrive and deployment/redrive-request.
 */

import { Logger } from "@aws-lambda-powertools/logger";
import type { Context } from "aws-lambda";
import { redriveConfigFromEnv } from "../deployment/redrive-pairs.ts";
import { type RedriveSummary, runRedriveRequest } from "../deployment/redrive-request.ts";
import { sqsClient } from "../lib/sqs-client.ts";
import { flushSpans } from "../lib/trace/spans.ts";

// Fails the cold start with a message naming the missing or malformed setting.
const config = redriveConfigFromEnv();
const sqs = sqsClient();
const logger = new Logger({ serviceName: "redrive" });

/** Stop this long before the function's timeout so the summary (and the held messages) come back. */
const STOP_BEFORE_TIMEOUT_MS = 20_000;

export const handler = async (event: unknown, context: Context): Promise<RedriveSummary> => {
  logger.addContext(context);
  const signal = AbortSignal.timeout(
    Math.max(1_000, context.getRemainingTimeInMillis() - STOP_BEFORE_TIMEOUT_MS),
  );
  logger.info("redrive requested", { request: event });
  let summary: RedriveSummary;
  try {
    summary = await runRedriveRequest(event, { sqs, ...config, signal });
  } finally {
    // Its spans (one per message moved back) go out before Lambda freezes the function.
    await flushSpans();
  }
  const { items: _items, ...counts } = summary as RedriveSummary & { items?: unknown };
  logger.info("redrive finished", { summary: counts });
  return summary;
};
