/**
 * The pointer message of AWS's extended clients (amazon-sqs-java-extended-client-lib,
 * amazon-sns-java-extended-client-lib, the Python sqs/sns extended clients, all through
 * payload-offloading-java-common-lib): the body is Jackson's default-typed form of a
 * `PayloadS3Pointer`, and a reserved message attribute holds the payload's size in bytes. A Java or
 * Python consumer with an extended client resolves courier's pointers, and courier resolves theirs.
 */
import type { MessageAttributeValue } from "@aws-sdk/client-sns";
import * as z from "zod/mini";
import "../zod-locale.ts";
import { MalformedPointerError } from "./errors.ts";

/** The reserved attribute the current clients write and read: the payload's size, as a Number. */
export const PAYLOAD_SIZE_ATTRIBUTE = "ExtendedPayloadSize";
/** The name older Java clients wrote; current clients still read it, and so does courier. */
export const LEGACY_PAYLOAD_SIZE_ATTRIBUTE = "SQSLargePayloadSize";
export const RESERVED_ATTRIBUTE_NAMES: readonly string[] = [
  PAYLOAD_SIZE_ATTRIBUTE,
  LEGACY_PAYLOAD_SIZE_ATTRIBUTE,
];

/** The class name Jackson writes first (DefaultTyping.NON_FINAL) for the current pointer class. */
export const POINTER_CLASS = "software.amazon.payloadoffloading.PayloadS3Pointer";
/** The pointer class of the SQS Java client before the common library; still read. */
export const LEGACY_POINTER_CLASS = "com.amazon.sqs.javamessaging.MessageS3Pointer";

/** Where an offloaded payload is. */
export interface PayloadPointer {
  readonly bucket: string;
  readonly key: string;
}

/** S3's rules: bucket names 3-63 characters; keys 1-1,024 bytes. Unknown fields are ignored, as Jackson does. */
const pointerSchema = z.tuple([
  z.enum([POINTER_CLASS, LEGACY_POINTER_CLASS]),
  z.object({
    s3BucketName: z.string().check(z.minLength(3), z.maxLength(63)),
    s3Key: z.string().check(z.minLength(1), z.maxLength(1024)),
  }),
]);

/** `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"…","s3Key":"…"}]` */
export function encodePointer(pointer: PayloadPointer): string {
  return JSON.stringify([POINTER_CLASS, { s3BucketName: pointer.bucket, s3Key: pointer.key }]);
}

/** Reads a pointer body; throws MalformedPointerError saying what is wrong. */
export function decodePointer(body: string): PayloadPointer {
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch (error) {
    throw new MalformedPointerError(`pointer body is not JSON: ${(error as Error).message}`);
  }
  const parsed = pointerSchema.safeParse(json);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ");
    throw new MalformedPointerError(`not a PayloadS3Pointer: ${issues}`);
  }
  const [, { s3BucketName, s3Key }] = parsed.data;
  return { bucket: s3BucketName, key: s3Key };
}

/** The attribute the publisher adds to a pointer message (SNS form; SQS's is the same shape). */
export function payloadSizeAttribute(sizeBytes: number): Record<string, MessageAttributeValue> {
  return { [PAYLOAD_SIZE_ATTRIBUTE]: { DataType: "Number", StringValue: String(sizeBytes) } };
}

/** A received message's attributes, as Lambda's SQS event or ReceiveMessage gives them. */
type ReceivedAttributes = Readonly<
  Record<
    string,
    {
      readonly stringValue?: string | undefined;
      readonly StringValue?: string | undefined;
      readonly dataType?: string | undefined;
      readonly DataType?: string | undefined;
    }
  >
>;

/**
 * The declared payload size when the message is a pointer (it carries a reserved attribute), else
 * undefined. A reserved attribute whose value is not a whole number of bytes is a malformed pointer.
 */
export function declaredPayloadSize(attributes: ReceivedAttributes | undefined): number | undefined {
  if (!attributes) return undefined;
  for (const name of RESERVED_ATTRIBUTE_NAMES) {
    const value = attributes[name];
    if (!value) continue;
    const text = value.stringValue ?? value.StringValue ?? "";
    if (!/^\d{1,15}$/.test(text)) {
      throw new MalformedPointerError(`${name} must be a whole number of bytes, got "${text.slice(0, 40)}"`);
    }
    return Number(text);
  }
  return undefined;
}
