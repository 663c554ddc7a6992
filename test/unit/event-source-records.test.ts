import type { Message } from "@aws-sdk/client-sqs";
import type { SQSRecord } from "aws-lambda";
import { describe, expect, it } from "vitest";
import {
  parseQueueArn,
  settleBatch,
  toSqsRecord,
} from "../../packages/courier/src/worker/event-source-records.ts";

const source = { queueArn: "arn:aws:sqs:eu-west-1:123456789012:orders", awsRegion: "eu-west-1" };

const message: Message = {
  MessageId: "m-1",
  ReceiptHandle: "rh-1",
  Body: '{"hello":"world"}',
  MD5OfBody: "md5-body",
  MD5OfMessageAttributes: "md5-attrs",
  Attributes: {
    ApproximateReceiveCount: "3",
    SentTimestamp: "1700000000000",
    SenderId: "AIDAEXAMPLE",
    ApproximateFirstReceiveTimestamp: "1700000000100",
  },
  MessageAttributes: {
    type: { DataType: "String", StringValue: "NewAccount" },
    version: { DataType: "Number", StringValue: "1" },
    blob: { DataType: "Binary", BinaryValue: new Uint8Array([1, 2, 3, 250]) },
  },
};

function record(id: string): SQSRecord {
  return toSqsRecord({ ...message, MessageId: id, ReceiptHandle: `rh-${id}` }, source);
}

describe("toSqsRecord: Lambda's SQS record shape", () => {
  it("GIVEN a received message WHEN mapped THEN it carries Lambda's top-level fields, not the SDK's", () => {
    const r = toSqsRecord(message, source);
    expect(r).toMatchObject({
      messageId: "m-1",
      receiptHandle: "rh-1",
      body: '{"hello":"world"}',
      md5OfBody: "md5-body",
      md5OfMessageAttributes: "md5-attrs",
      eventSource: "aws:sqs",
      eventSourceARN: "arn:aws:sqs:eu-west-1:123456789012:orders",
      awsRegion: "eu-west-1",
    });
  });

  it("GIVEN system attributes WHEN mapped THEN they stay strings, ApproximateReceiveCount included", () => {
    const r = toSqsRecord(message, source);
    expect(r.attributes).toEqual({
      ApproximateReceiveCount: "3",
      SentTimestamp: "1700000000000",
      SenderId: "AIDAEXAMPLE",
      ApproximateFirstReceiveTimestamp: "1700000000100",
    });
  });

  it("GIVEN string and number attributes WHEN mapped THEN camelCase with empty list fields, as Lambda sends", () => {
    const r = toSqsRecord(message, source);
    expect(r.messageAttributes.type).toEqual({
      stringValue: "NewAccount",
      stringListValues: [],
      binaryListValues: [],
      dataType: "String",
    });
    expect(r.messageAttributes.version?.dataType).toBe("Number");
  });

  it("GIVEN a binary attribute WHEN mapped THEN its value is base64, not bytes", () => {
    const r = toSqsRecord(message, source);
    expect(r.messageAttributes.blob).toEqual({
      binaryValue: Buffer.from([1, 2, 3, 250]).toString("base64"),
      stringListValues: [],
      binaryListValues: [],
      dataType: "Binary",
    });
  });

  it("GIVEN a message without attributes WHEN mapped THEN empty objects, never undefined", () => {
    const r = toSqsRecord({ MessageId: "m", ReceiptHandle: "rh", Body: "x", MD5OfBody: "h" }, source);
    expect(r.messageAttributes).toEqual({});
    expect(r.attributes).toEqual({});
    expect("md5OfMessageAttributes" in r).toBe(false);
  });

  it("GIVEN a message without a receipt handle WHEN mapped THEN a named error, since it could never be deleted", () => {
    expect(() => toSqsRecord({ MessageId: "m", Body: "x" }, source)).toThrow(/ReceiptHandle/);
  });
});

describe("settleBatch: Lambda's partial batch response rules", () => {
  const records = [record("a"), record("b"), record("c")];
  const ids = (rs: SQSRecord[]) => rs.map((r) => r.messageId);

  it("GIVEN the handler returned nothing WHEN settled THEN every record succeeded", () => {
    const s = settleBatch(records, { kind: "returned", value: undefined });
    expect(ids(s.succeeded)).toEqual(["a", "b", "c"]);
    expect(s.failed).toEqual([]);
  });

  it("GIVEN an empty batchItemFailures WHEN settled THEN every record succeeded", () => {
    const s = settleBatch(records, { kind: "returned", value: { batchItemFailures: [] } });
    expect(ids(s.succeeded)).toEqual(["a", "b", "c"]);
  });

  it("GIVEN batchItemFailures naming one record WHEN settled THEN only that one fails and its neighbours succeed", () => {
    const s = settleBatch(records, {
      kind: "returned",
      value: { batchItemFailures: [{ itemIdentifier: "b" }] },
    });
    expect(ids(s.succeeded)).toEqual(["a", "c"]);
    expect(ids(s.failed)).toEqual(["b"]);
    expect(s.batchFailure).toBeUndefined();
  });

  it("GIVEN the handler threw WHEN settled THEN the whole batch fails with the error's message", () => {
    const s = settleBatch(records, { kind: "threw", error: new Error("boom") });
    expect(s.succeeded).toEqual([]);
    expect(ids(s.failed)).toEqual(["a", "b", "c"]);
    expect(s.batchFailure).toMatch(/boom/);
  });

  it("GIVEN the handler timed out WHEN settled THEN the whole batch fails, as on Lambda", () => {
    const s = settleBatch(records, { kind: "timedOut" });
    expect(s.succeeded).toEqual([]);
    expect(s.batchFailure).toMatch(/timeout/);
  });

  it("GIVEN an itemIdentifier not in the batch WHEN settled THEN the whole batch fails, as Lambda does", () => {
    const s = settleBatch(records, {
      kind: "returned",
      value: { batchItemFailures: [{ itemIdentifier: "zzz" }] },
    });
    expect(s.succeeded).toEqual([]);
    expect(s.batchFailure).toMatch(/zzz/);
  });

  it("GIVEN an empty itemIdentifier WHEN settled THEN the whole batch fails", () => {
    const s = settleBatch(records, {
      kind: "returned",
      value: { batchItemFailures: [{ itemIdentifier: "" }] },
    });
    expect(s.succeeded).toEqual([]);
  });

  it("GIVEN batchItemFailures that is not an array WHEN settled THEN the whole batch fails", () => {
    const s = settleBatch(records, { kind: "returned", value: { batchItemFailures: "b" } });
    expect(s.succeeded).toEqual([]);
  });
});

describe("parseQueueArn", () => {
  it("GIVEN a queue ARN WHEN parsed THEN region, account and name", () => {
    expect(parseQueueArn(source.queueArn)).toEqual({
      region: "eu-west-1",
      accountId: "123456789012",
      queueName: "orders",
    });
  });

  it("GIVEN a queue URL by mistake WHEN parsed THEN a clear error", () => {
    expect(() => parseQueueArn("http://127.0.0.1:4566/000000000000/orders")).toThrow(/not an SQS queue ARN/);
  });
});
