/**
 * The handler of the consumer test/cdk/extra-consumer.test.ts adds to the topology. Only its path
 * matters there (bundling is off); it acknowledges every record.
 */
import type { SQSBatchResponse } from "aws-lambda";

export async function handler(): Promise<SQSBatchResponse> {
  return { batchItemFailures: [] };
}
