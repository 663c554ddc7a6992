// Placeholder until the consumer issue lands: every record fails with a clear reason, so SQS
// retries and then dead-letters it; nothing is acknowledged without being processed.
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> => {
  console.error("verification-sms: not implemented yet; failing every record so none is lost");
  return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
};
