/**
 * The pointer format of AWS's extended clients, checked against vectors written by hand from their
 * published source (not produced by courier's encoder): payload-offloading-java-common-lib's
 * PayloadS3Pointer serialized by Jackson with DefaultTyping.NON_FINAL (a two-element array: class
 * name, then the bean's fields), and the reserved attribute names of amazon-sqs-java-extended-client-lib
 * (ExtendedPayloadSize; legacy SQSLargePayloadSize, still read by it and by the Python client).
 */
import { describe, expect, it } from "vitest";
import {
  declaredPayloadSize,
  decodePointer,
  encodePointer,
  LEGACY_PAYLOAD_SIZE_ATTRIBUTE,
  MalformedPointerError,
  PAYLOAD_SIZE_ATTRIBUTE,
  payloadSizeAttribute,
} from "../../packages/courier/src/lib/payload-offloading/index.ts";

/** What the Java SNS/SQS extended clients put in the body for bucket "my-payloads", key "f1c…". */
const JAVA_POINTER_BODY =
  '["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"my-payloads","s3Key":"f1c7b3a2-9d4e-4c55-8a1e-0b6f3c2d1e00"}]';
/** The older SQS Java client's class name, same fields. */
const LEGACY_JAVA_POINTER_BODY =
  '["com.amazon.sqs.javamessaging.MessageS3Pointer",{"s3BucketName":"my-payloads","s3Key":"k/1"}]';

describe("extended-client pointer format", () => {
  it("GIVEN AWS's published attribute names WHEN compared THEN courier's constants are exactly them", () => {
    expect(PAYLOAD_SIZE_ATTRIBUTE).toBe("ExtendedPayloadSize");
    expect(LEGACY_PAYLOAD_SIZE_ATTRIBUTE).toBe("SQSLargePayloadSize");
  });

  it("GIVEN the Java client's pointer body WHEN courier encodes the same pointer THEN the bytes are identical", () => {
    expect(encodePointer({ bucket: "my-payloads", key: "f1c7b3a2-9d4e-4c55-8a1e-0b6f3c2d1e00" })).toBe(
      JAVA_POINTER_BODY,
    );
  });

  it("GIVEN the Java client's pointer body (current and legacy class) WHEN decoded THEN bucket and key are read", () => {
    expect(decodePointer(JAVA_POINTER_BODY)).toEqual({
      bucket: "my-payloads",
      key: "f1c7b3a2-9d4e-4c55-8a1e-0b6f3c2d1e00",
    });
    expect(decodePointer(LEGACY_JAVA_POINTER_BODY)).toEqual({ bucket: "my-payloads", key: "k/1" });
  });

  it("GIVEN a pointer with a field Jackson would ignore WHEN decoded THEN it is read as Jackson reads it", () => {
    const body =
      '["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"my-payloads","s3Key":"a","extra":1}]';
    expect(decodePointer(body)).toEqual({ bucket: "my-payloads", key: "a" });
  });

  it.each([
    ["not JSON", "[software.amazon", /not JSON/],
    ["an object, not the typed array", '{"s3BucketName":"b-b","s3Key":"k"}', /not a PayloadS3Pointer/],
    [
      "another class",
      '["com.example.Pointer",{"s3BucketName":"bbb","s3Key":"k"}]',
      /not a PayloadS3Pointer: 0:/,
    ],
    ["no key", '["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"bbb"}]', /1\.s3Key/],
    [
      "a key over 1,024",
      `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"bbb","s3Key":"${"k".repeat(1025)}"}]`,
      /1\.s3Key/,
    ],
  ])(
    "GIVEN a pointer body that is %s WHEN decoded THEN MalformedPointerError says what is wrong",
    (_, body, reason) => {
      expect(() => decodePointer(body)).toThrow(MalformedPointerError);
      expect(() => decodePointer(body)).toThrow(reason);
    },
  );

  it("GIVEN SQS record attributes WHEN the declared size is read THEN ExtendedPayloadSize or legacy SQSLargePayloadSize count; none means inline", () => {
    expect(declaredPayloadSize({ ExtendedPayloadSize: { stringValue: "5242880", dataType: "Number" } })).toBe(
      5_242_880,
    );
    expect(declaredPayloadSize({ SQSLargePayloadSize: { stringValue: "300000", dataType: "Number" } })).toBe(
      300_000,
    );
    expect(declaredPayloadSize({ type: { stringValue: "NewAccount", dataType: "String" } })).toBeUndefined();
    expect(declaredPayloadSize(undefined)).toBeUndefined();
  });

  it("GIVEN an ExtendedPayloadSize that is not a whole number WHEN read THEN MalformedPointerError", () => {
    for (const bad of ["-1", "1e9", "", "12.5", "9".repeat(16)]) {
      expect(() =>
        declaredPayloadSize({ ExtendedPayloadSize: { stringValue: bad, dataType: "Number" } }),
      ).toThrow(MalformedPointerError);
    }
  });

  it("GIVEN a payload size WHEN the publisher's attribute is built THEN it is a Number attribute named ExtendedPayloadSize, as the Java client writes", () => {
    expect(payloadSizeAttribute(5_242_880)).toEqual({
      ExtendedPayloadSize: { DataType: "Number", StringValue: "5242880" },
    });
  });
});
