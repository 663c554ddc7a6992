/** Giving received DLQ messages back: visibility 0 makes them receivable again at once. */
import { ChangeMessageVisibilityBatchCommand, type SQSClient } from "@aws-sdk/client-sqs";
import { MAX_BATCH_ENTRIES } from "./outgoing.ts";

/**
 * Best effort: a handle that fails here has expired, and its message is visible again anyway.
 * Returns how many handles SQS did not accept.
 */
export async function releaseMessages(sqs: SQSClient, queueUrl: string, receiptHandles: readonly string[]) {
  let rejected = 0;
  for (let start = 0; start < receiptHandles.length; start += MAX_BATCH_ENTRIES) {
    const chunk = receiptHandles.slice(start, start + MAX_BATCH_ENTRIES);
    try {
      const result = await sqs.send(
        new ChangeMessageVisibilityBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((handle, index) => ({
            Id: `r${index}`,
            ReceiptHandle: handle,
            VisibilityTimeout: 0,
          })),
        }),
      );
      rejected += result.Failed?.length ?? 0;
    } catch {
      rejected += chunk.length;
    }
  }
  return rejected;
}
