/**
 * Offloaded messages in the archive: the archiver reads a pointer's payload (through the consumer
 * runtime's resolver, limited to the topic's payload locations) for the envelope's eventId, type and
 * subject, and erasure then deletes the payload with the entry. Failure modes covered: an
 * offloaded message that erasure cannot find (no subject); its payload surviving the erasure; an
 * unreadable payload failing the archive batch (the pointer must be archived anyway).
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { beforeEach, describe, expect, it } from "vitest";
import { decodeEntries, subjectHash } from "../../packages/courier/src/lib/archive/archive-entry.ts";
import { archiveRecords, eraseSubject } from "../../packages/courier/src/lib/archive/archive-store.ts";
import {
  encodePointer,
  PAYLOAD_SIZE_ATTRIBUTE,
} from "../../packages/courier/src/lib/payload-offloading/pointer.ts";
import { sqsRecord } from "../helpers/sqs-record.ts";

const s3 = new S3Client({ region: "us-east-1" });
const s3Mock = mockClient(s3);
const ARCHIVE = "archive-bucket";
const pointer = { bucket: "payloads", key: "account-exports/e-1" };
const payload = JSON.stringify({
  eventId: "e-1",
  type: "AccountExportRequested",
  version: 1,
  data: { accountId: "acc_7" },
});

function pointerRecord() {
  return sqsRecord(
    JSON.stringify({
      Type: "Notification",
      MessageId: "sns-1",
      Message: encodePointer(pointer),
      Timestamp: "2026-12-06T10:15:00.000Z",
      MessageAttributes: {
        [PAYLOAD_SIZE_ATTRIBUTE]: { Type: "Number", Value: String(Buffer.byteLength(payload)) },
        type: { Type: "String", Value: "AccountExportRequested" },
      },
    }),
  );
}

let objects: Map<string, Uint8Array>;
beforeEach(() => {
  s3Mock.reset();
  objects = new Map();
  s3Mock.on(PutObjectCommand).callsFake((input: { Key: string; Body: Uint8Array }) => {
    objects.set(input.Key, input.Body);
    return {};
  });
  s3Mock.on(ListObjectsV2Command).callsFake((input: { Prefix: string }) => ({
    Contents: [...objects.keys()].filter((k) => k.startsWith(input.Prefix)).map((Key) => ({ Key, Size: 1 })),
  }));
  s3Mock.on(GetObjectCommand).callsFake((input: { Key: string }) => ({
    Body: { transformToByteArray: async () => objects.get(input.Key) } as never,
  }));
  s3Mock.on(DeleteObjectCommand).callsFake((input: { Key: string }) => {
    objects.delete(input.Key);
    return {};
  });
});

describe("offloaded messages in the archive", () => {
  it("GIVEN a pointer and the topic's payload resolver WHEN archived THEN the entry keeps the pointer and gains the envelope's fields, the subject hash and the payload's place", async () => {
    const asked: string[] = [];
    const response = await archiveRecords([pointerRecord()], {
      s3,
      bucket: ARCHIVE,
      topic: "account-exports",
      subject: "accountId",
      payloads: async (body, declared) => {
        asked.push(`${body.length}:${declared}`);
        return payload;
      },
    });
    expect(response.batchItemFailures).toEqual([]);
    expect(asked).toEqual([`${encodePointer(pointer).length}:${Buffer.byteLength(payload)}`]);
    const [key, bytes] = [...objects.entries()][0] ?? [];
    const [entry] = decodeEntries(bytes as Uint8Array, key as string);
    expect(entry).toMatchObject({
      message: encodePointer(pointer),
      eventId: "e-1",
      type: "AccountExportRequested",
      subject: subjectHash("acc_7"),
      payload: pointer,
    });
  });

  it("GIVEN a payload that cannot be read WHEN archived THEN the pointer is archived as it is and the batch does not fail", async () => {
    const response = await archiveRecords([pointerRecord()], {
      s3,
      bucket: ARCHIVE,
      topic: "account-exports",
      subject: "accountId",
      payloads: async () => {
        throw new Error("NoSuchKey");
      },
    });
    expect(response.batchItemFailures).toEqual([]);
    const [key, bytes] = [...objects.entries()][0] ?? [];
    const [entry] = decodeEntries(bytes as Uint8Array, key as string);
    expect(entry?.subject).toBeUndefined();
    expect(entry?.message).toBe(encodePointer(pointer));
  });

  it("GIVEN an archived offloaded message WHEN its subject is erased THEN the payload object is deleted with the entry", async () => {
    await archiveRecords([pointerRecord()], {
      s3,
      bucket: ARCHIVE,
      topic: "account-exports",
      subject: "accountId",
      payloads: async () => payload,
    });
    const result = await eraseSubject(s3, ARCHIVE, ["account-exports"], "acc_7");
    expect(result).toMatchObject({ messagesRemoved: 1, payloadsDeleted: 1 });
    const deleted = s3Mock
      .commandCalls(DeleteObjectCommand)
      .map((c) => `${c.args[0].input.Bucket}/${c.args[0].input.Key}`);
    expect(deleted).toContain(`${pointer.bucket}/${pointer.key}`);
    expect([...objects.keys()].filter((k) => k.startsWith("archive/account-exports/"))).toEqual([]);
  });
});
