/**
 * aws-sdk-client-mock helpers for the consumer runtime's batched failure calls: SQS confirming
 * every entry, and the entries sent, flattened to one input per message as a single call would take.
 */
import {
  ChangeMessageVisibilityBatchCommand,
  type ChangeMessageVisibilityCommandInput,
  SendMessageBatchCommand,
  type SendMessageCommandInput,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import type { AwsClientStub } from "aws-sdk-client-mock";

type SqsMock = AwsClientStub<SQSClient>;

/** SQS lists every entry of every batch call as successful. */
export function confirmSqsBatches(mock: SqsMock): void {
  mock.on(SendMessageBatchCommand).callsFake((input: { Entries?: Array<{ Id?: string }> }) => ({
    Successful: (input.Entries ?? []).map((e) => ({
      Id: e.Id,
      MessageId: `dlq-${e.Id}`,
      MD5OfMessageBody: "",
    })),
    Failed: [],
  }));
  mock.on(ChangeMessageVisibilityBatchCommand).callsFake((input: { Entries?: Array<{ Id?: string }> }) => ({
    Successful: (input.Entries ?? []).map((e) => ({ Id: e.Id })),
    Failed: [],
  }));
}

/** Every DLQ message sent, in order, as SendMessage inputs. */
export function sentMessages(mock: SqsMock): SendMessageCommandInput[] {
  return mock.commandCalls(SendMessageBatchCommand).flatMap((call) => {
    const { QueueUrl, Entries = [] } = call.args[0].input;
    return Entries.map(({ Id: _id, ...entry }) => ({ QueueUrl, ...entry }));
  });
}

/** Every visibility change, in order, as ChangeMessageVisibility inputs. */
export function visibilityChangesOf(mock: SqsMock): ChangeMessageVisibilityCommandInput[] {
  return mock.commandCalls(ChangeMessageVisibilityBatchCommand).flatMap((call) => {
    const { QueueUrl, Entries = [] } = call.args[0].input;
    return Entries.map(({ ReceiptHandle, VisibilityTimeout }) => ({
      QueueUrl,
      ReceiptHandle,
      VisibilityTimeout,
    }));
  });
}
