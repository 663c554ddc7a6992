/**
 * The publisher's side of offloading: put the body in the payload bucket, and build the pointer
 * message that goes through SNS instead.
 */

import { PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import type { MessageAttributeValue } from "@aws-sdk/client-sns";
import { encodePointer, type PayloadPointer, payloadSizeAttribute } from "./pointer.ts";

/** The variable a consumer of an offloading topic finds the payload bucket's name in. */
export const PAYLOAD_BUCKET_ENV = "COURIER_PAYLOAD_BUCKET";

/** Where a publisher puts payloads too large for their topic. */
export interface PayloadStore {
  readonly s3: S3Client;
  readonly bucket: string;
}

/** Every topic's payloads live under `<topic>/`: a consumer is granted (and reads) only its topic's. */
export function payloadPrefix(topic: string): string {
  return `${topic}/`;
}

/** One object per event: a republish of the same event (outbox) writes the same key. */
export function payloadKey(topic: string, eventId: string): string {
  return `${payloadPrefix(topic)}${eventId}`;
}

export interface OffloadedMessage {
  readonly pointer: PayloadPointer;
  readonly body: string;
  readonly attributes: Record<string, MessageAttributeValue>;
}

/**
 * Puts `body` in the store and returns the pointer message: the pointer body, the message's own
 * attributes (filter policies keep working) and ExtendedPayloadSize. The object is written before
 * the pointer is published, so a consumer never sees a pointer to nothing (until expiry).
 */
export async function offloadBody(
  store: PayloadStore,
  topic: string,
  eventId: string,
  body: string,
  attributes: Record<string, MessageAttributeValue>,
): Promise<OffloadedMessage> {
  const bytes = Buffer.from(body, "utf8");
  const pointer = { bucket: store.bucket, key: payloadKey(topic, eventId) };
  await store.s3.send(
    new PutObjectCommand({
      Bucket: pointer.bucket,
      Key: pointer.key,
      Body: bytes,
      ContentType: "application/json",
      ContentLength: bytes.byteLength,
    }),
  );
  return {
    pointer,
    body: encodePointer(pointer),
    attributes: { ...attributes, ...payloadSizeAttribute(bytes.byteLength) },
  };
}
