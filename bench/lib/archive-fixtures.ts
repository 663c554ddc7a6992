/**
 * Archive fixtures for the history-and-replay benchmarks: SQS records shaped as an archive queue
 * receives them (SNS notifications of realistic sign-ups, raw delivery off), and a fresh bucket.
 */
import { randomUUID } from "node:crypto";
import { CreateBucketCommand, type S3Client } from "@aws-sdk/client-s3";
import type { SQSRecord } from "aws-lambda";

export interface NotificationOptions {
  readonly publishedAt?: Date;
  readonly groupId?: string;
  readonly sequenceNumber?: string;
}

/** One archive-queue record: an SNS notification of a NewAccount envelope (~600 bytes of message). */
export function signupNotificationRecord(n: number, options: NotificationOptions = {}): SQSRecord {
  const accountId = `acc_${n.toString(36).padStart(6, "0")}`;
  const hasPhone = n % 3 === 0;
  const message = JSON.stringify({
    eventId: randomUUID(),
    type: "NewAccount",
    version: 1,
    occurredAt: (options.publishedAt ?? new Date()).toISOString(),
    producer: "example-api",
    trace: {
      traceparent: `00-${randomUUID().replaceAll("-", "")}-${randomUUID().replaceAll("-", "").slice(0, 16)}-01`,
      correlationId: randomUUID(),
    },
    data: {
      accountId,
      email: `user${n}@example.com`,
      displayName: `User ${n}`,
      ...(hasPhone ? { phone: "+14155550123" } : {}),
      locale: "en-US",
      createdAt: (options.publishedAt ?? new Date()).toISOString(),
    },
  });
  const body = JSON.stringify({
    Type: "Notification",
    MessageId: randomUUID(),
    TopicArn: "arn:aws:sns:us-east-1:000000000000:courier-account-signups",
    Message: message,
    Timestamp: (options.publishedAt ?? new Date()).toISOString(),
    ...(options.sequenceNumber ? { SequenceNumber: options.sequenceNumber } : {}),
    SignatureVersion: "1",
    MessageAttributes: {
      type: { Type: "String", Value: "NewAccount" },
      version: { Type: "Number", Value: "1" },
      hasPhone: { Type: "String", Value: String(hasPhone) },
      purpose: { Type: "String", Value: "signup" },
    },
  });
  return {
    messageId: randomUUID(),
    receiptHandle: randomUUID(),
    body,
    attributes: {
      ApproximateReceiveCount: "1",
      SentTimestamp: String(Date.now()),
      SenderId: "AIDAEXAMPLE",
      ApproximateFirstReceiveTimestamp: String(Date.now()),
      ...(options.groupId ? { MessageGroupId: options.groupId } : {}),
    },
    messageAttributes: {},
    md5OfBody: "",
    eventSource: "aws:sqs",
    eventSourceARN: "arn:aws:sqs:us-east-1:000000000000:archive",
    awsRegion: "us-east-1",
  } as SQSRecord;
}

export async function freshBucket(s3: S3Client, label: string): Promise<string> {
  const bucket = `${label}-${randomUUID().slice(0, 8)}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}
