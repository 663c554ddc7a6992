import { GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";

/** ApproximateNumberOfMessages: visible messages only, as SQS reports it. */
export async function approximateDepth(sqs: SQSClient, queueUrl: string): Promise<number> {
  const result = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["ApproximateNumberOfMessages"] }),
  );
  return Number(result.Attributes?.ApproximateNumberOfMessages ?? 0);
}
