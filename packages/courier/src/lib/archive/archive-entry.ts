/**
 * What the archive keeps of one published message: the SNS notification's MessageId, publish time
 * and message attributes, the body as published (courier's envelope, or an offloaded payload's
 * pointer), the FIFO group and sequence number, and a hash of the message's subject (the data field
 * erasure goes by). Entries are stored as gzipped JSON Lines, one object per archiver batch and hour
 * (archive-keys.ts), so a time window is found by listing key prefixes.
 */
import { createHash } from "node:crypto";
import { gunzipSync, gzipSync } from "node:zlib";
import type { SQSRecord } from "aws-lambda";
import * as z from "zod";

const attributeSchema = z.object({ type: z.string(), value: z.string() });

export const archiveEntrySchema = z.object({
  /** SNS's MessageId of the publish (the same for every subscriber: the archive's dedup key). */
  messageId: z.string().min(1),
  /** When SNS accepted the publish (the notification's Timestamp), ISO 8601. */
  publishedAt: z.string(),
  topic: z.string(),
  /** The envelope's eventId, type and version, when the body is an envelope. */
  eventId: z.string().optional(),
  type: z.string().optional(),
  version: z.number().optional(),
  /** The SNS message attributes: name to SNS data type and value. */
  attributes: z.record(z.string(), attributeSchema).default({}),
  /** The message as published. */
  message: z.string(),
  /** FIFO topics: the message group and SNS's sequence number (the order within the group). */
  groupId: z.string().optional(),
  sequenceNumber: z.string().optional(),
  /** sha256 of the subject's value (topic's `archive.subject`), for erasure; absent without one. */
  subject: z.string().optional(),
  /**
   * Where an offloaded message's payload is, when the body is a pointer the archiver resolved (to
   * read the envelope's eventId, type and subject): erasure deletes it with the entry.
   */
  payload: z.object({ bucket: z.string(), key: z.string() }).optional(),
});
export type ArchiveEntry = z.infer<typeof archiveEntrySchema>;
export type ArchivedAttribute = z.infer<typeof attributeSchema>;

/** The hash the archive and the erasure ledger know a subject by (never its value). */
export function subjectHash(value: string): string {
  return createHash("sha256").update(value, "utf8").digest("hex");
}

const notificationSchema = z.object({
  Type: z.literal("Notification"),
  MessageId: z.string(),
  Message: z.string(),
  Timestamp: z.string(),
  SequenceNumber: z.string().optional(),
  MessageAttributes: z.record(z.string(), z.object({ Type: z.string(), Value: z.string() })).optional(),
});

/**
 * The entry of an offloaded message, completed from its resolved payload: the envelope's eventId,
 * type, version and subject hash, and where the payload is. The body archived stays the pointer.
 */
export function withPayloadFields(
  entry: ArchiveEntry,
  payloadBody: string,
  pointer: { readonly bucket: string; readonly key: string },
  subjectField: string | undefined,
): ArchiveEntry {
  return {
    ...entry,
    ...envelopeFields(payloadBody, subjectField),
    payload: { bucket: pointer.bucket, key: pointer.key },
  };
}

function envelopeFields(message: string, subjectField: string | undefined) {
  try {
    const parsed = JSON.parse(message) as {
      eventId?: unknown;
      type?: unknown;
      version?: unknown;
      data?: Record<string, unknown>;
    };
    if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) return {};
    const subjectValue = subjectField ? parsed.data?.[subjectField] : undefined;
    return {
      ...(typeof parsed.eventId === "string" ? { eventId: parsed.eventId } : {}),
      ...(typeof parsed.type === "string" ? { type: parsed.type } : {}),
      ...(typeof parsed.version === "number" ? { version: parsed.version } : {}),
      ...(typeof subjectValue === "string" || typeof subjectValue === "number"
        ? { subject: subjectHash(String(subjectValue)) }
        : {}),
    };
  } catch {
    // An offloaded payload's pointer is JSON too, but an array: no envelope fields, no subject.
    return {};
  }
}

/**
 * The entry for one record of an archive queue (an SNS subscription with raw delivery off). A body
 * that is not an SNS notification (a message sent to the queue by hand) is kept as it came, with
 * SQS's MessageId and sent time: the archive drops nothing it is given.
 */
export function entryFromRecord(record: SQSRecord, topic: string, subjectField?: string): ArchiveEntry {
  let notification: z.infer<typeof notificationSchema> | undefined;
  try {
    const parsed = notificationSchema.safeParse(JSON.parse(record.body));
    if (parsed.success) notification = parsed.data;
  } catch {
    notification = undefined;
  }
  const groupId = (record.attributes as { MessageGroupId?: string } | undefined)?.MessageGroupId;
  if (!notification) {
    return {
      messageId: record.messageId,
      publishedAt: new Date(Number(record.attributes?.SentTimestamp ?? Date.now())).toISOString(),
      topic,
      attributes: Object.fromEntries(
        Object.entries(record.messageAttributes ?? {}).flatMap(([name, a]) =>
          a.stringValue !== undefined ? [[name, { type: a.dataType, value: a.stringValue }]] : [],
        ),
      ),
      message: record.body,
      ...(groupId ? { groupId } : {}),
      ...envelopeFields(record.body, subjectField),
    };
  }
  return {
    messageId: notification.MessageId,
    publishedAt: new Date(notification.Timestamp).toISOString(),
    topic,
    attributes: Object.fromEntries(
      Object.entries(notification.MessageAttributes ?? {}).map(([name, a]) => [
        name,
        { type: a.Type, value: a.Value },
      ]),
    ),
    message: notification.Message,
    ...(groupId ? { groupId } : {}),
    ...(notification.SequenceNumber ? { sequenceNumber: notification.SequenceNumber } : {}),
    ...envelopeFields(notification.Message, subjectField),
  };
}

/** One archive object's bytes: gzipped JSON Lines. */
export function encodeEntries(entries: readonly ArchiveEntry[]): Buffer {
  return gzipSync(Buffer.from(`${entries.map((e) => JSON.stringify(e)).join("\n")}\n`, "utf8"));
}

/** Reads an archive object back; a line that is not an entry is an error naming the object. */
export function decodeEntries(bytes: Uint8Array, key: string): ArchiveEntry[] {
  const text = gunzipSync(bytes).toString("utf8");
  return text
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line, i) => {
      const parsed = archiveEntrySchema.safeParse(JSON.parse(line));
      if (!parsed.success) throw new Error(`archive object ${key}: line ${i + 1} is not an archive entry`);
      return parsed.data;
    });
}
