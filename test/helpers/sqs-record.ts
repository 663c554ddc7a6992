/**
 * One factory for the SQS records Lambda hands a function (the shape of `SQSRecord` in an
 * `SQSEvent`), for unit tests, the corpus and benchmarks. Each call gets a fresh messageId and
 * receipt handle unless given.
 */
import type { SQSEvent, SQSMessageAttributes, SQSRecord } from "aws-lambda";

export interface SqsRecordOptions {
  readonly messageId?: string;
  readonly receiptHandle?: string;
  /** ApproximateReceiveCount. @default 1 */
  readonly receiveCount?: number;
  /** SentTimestamp in epoch ms. @default now - 1500 */
  readonly sentAt?: number;
  readonly messageAttributes?: SQSMessageAttributes;
  /** The queue's name in eventSourceARN. @default "verification-email" */
  readonly queue?: string;
}

let sequence = 0;

export function sqsRecord(body: string, options: SqsRecordOptions = {}): SQSRecord {
  sequence += 1;
  const sentAt = options.sentAt ?? Date.now() - 1500;
  return {
    messageId: options.messageId ?? `msg-${sequence}`,
    receiptHandle: options.receiptHandle ?? `receipt-${sequence}`,
    body,
    attributes: {
      ApproximateReceiveCount: String(options.receiveCount ?? 1),
      SentTimestamp: String(sentAt),
      SenderId: "AIDAEXAMPLE",
      ApproximateFirstReceiveTimestamp: String(sentAt + 500),
    },
    messageAttributes: options.messageAttributes ?? {},
    md5OfBody: "ignored",
    eventSource: "aws:sqs",
    eventSourceARN: `arn:aws:sqs:us-east-1:000000000000:${options.queue ?? "verification-email"}`,
    awsRegion: "us-east-1",
  };
}

export function sqsEvent(...records: SQSRecord[]): SQSEvent {
  return { Records: records };
}
