/**
 * Reading and writing a topic's archive in S3: the archiver's batch write, the objects of a time
 * window, the entries in them (each message once, by SNS MessageId), the archive's size, and the
 * erasure of a subject's messages.
 */
import {
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type S3Client,
} from "@aws-sdk/client-s3";
import type { SQSBatchResponse, SQSRecord } from "aws-lambda";
import type { TopicSpec } from "../contracts/topic-spec.ts";
import type { PayloadResolver } from "../payload-offloading/payload-resolver.ts";
import { declaredPayloadSize, decodePointer } from "../payload-offloading/pointer.ts";
import {
  type ArchiveEntry,
  decodeEntries,
  encodeEntries,
  entryFromRecord,
  subjectHash,
  withPayloadFields,
} from "./archive-entry.ts";
import {
  type BatchObjectName,
  batchObjectKey,
  dayPrefix,
  ERASED_PREFIX,
  erasedKey,
  parseBatchObjectKey,
  startOfDay,
  startOfHour,
  topicArchivePrefix,
} from "./archive-keys.ts";

/** A topic's archive settings with the defaults filled in, or undefined when it has none. */
export interface ArchiveSettings {
  readonly retentionDays: number;
  readonly subject?: string;
}

export const DEFAULT_ARCHIVE_RETENTION_DAYS = 30;

export function archiveSettingsOf(topic: Pick<TopicSpec, "archive">): ArchiveSettings | undefined {
  if (topic.archive === false) return undefined;
  const retentionDays = topic.archive?.retentionDays ?? DEFAULT_ARCHIVE_RETENTION_DAYS;
  return topic.archive?.subject ? { retentionDays, subject: topic.archive.subject } : { retentionDays };
}

export interface ArchiveLocation {
  readonly s3: S3Client;
  readonly bucket: string;
  readonly topic: string;
}

/**
 * Writes one archiver batch: one object per publish hour the records fall in. A failed write fails
 * only its own records (partial batch response), which SQS delivers again; a write that succeeded
 * before a crash is written again under a new key on redelivery, which is why readers count each
 * SNS MessageId once.
 */
export async function archiveRecords(
  records: readonly SQSRecord[],
  options: ArchiveLocation & {
    readonly subject?: string | undefined;
    /**
     * Reads an offloaded message's payload (the topic's payload locations), so its entry gets the
     * envelope's eventId, type and subject, and erasure can find it and delete the payload.
     * @default - pointers are archived as they are, with no envelope fields and no subject
     */
    readonly payloads?: PayloadResolver | undefined;
  },
): Promise<SQSBatchResponse> {
  const byHour = new Map<number, { entries: ArchiveEntry[]; records: SQSRecord[] }>();
  const entries = await Promise.all(
    records.map((record) => archiveEntryOf(record, options.topic, options.subject, options.payloads)),
  );
  for (const [i, record] of records.entries()) {
    const entry = entries[i] as ArchiveEntry;
    const hour = startOfHour(new Date(entry.publishedAt)).getTime();
    const group = byHour.get(hour) ?? { entries: [], records: [] };
    group.entries.push(entry);
    group.records.push(record);
    byHour.set(hour, group);
  }
  const failures: { itemIdentifier: string }[] = [];
  await Promise.all(
    [...byHour.values()].map(async ({ entries, records: groupRecords }) => {
      const first = new Date(Math.min(...entries.map((e) => Date.parse(e.publishedAt))));
      try {
        await options.s3.send(
          new PutObjectCommand({
            Bucket: options.bucket,
            Key: batchObjectKey(options.topic, first, entries.length),
            Body: encodeEntries(entries),
            ContentType: "application/gzip",
          }),
        );
      } catch {
        for (const record of groupRecords) failures.push({ itemIdentifier: record.messageId });
      }
    }),
  );
  return { batchItemFailures: failures };
}

/**
 * A record's entry; for an offloaded message (its body a pointer) completed from the payload when a
 * resolver is given. A payload that cannot be read (expired, refused) leaves the pointer's entry as
 * it is: the archive keeps what was published either way.
 */
async function archiveEntryOf(
  record: SQSRecord,
  topic: string,
  subject: string | undefined,
  payloads: PayloadResolver | undefined,
): Promise<ArchiveEntry> {
  const entry = entryFromRecord(record, topic, subject);
  if (!payloads || entry.eventId !== undefined) return entry;
  try {
    const pointer = decodePointer(entry.message);
    const declared = declaredPayloadSize(
      Object.fromEntries(
        Object.entries(entry.attributes).map(([name, a]) => [name, { stringValue: a.value }]),
      ),
    );
    if (declared === undefined) return entry;
    return withPayloadFields(entry, await payloads(entry.message, declared), pointer, subject);
  } catch {
    return entry;
  }
}

/** Every key under a prefix, listing page by page. */
export async function listKeys(
  s3: S3Client,
  bucket: string,
  prefix: string,
): Promise<{ key: string; size: number }[]> {
  const keys: { key: string; size: number }[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
    );
    for (const o of page.Contents ?? []) if (o.Key) keys.push({ key: o.Key, size: o.Size ?? 0 });
    token = page.IsTruncated ? page.NextContinuationToken : undefined;
  } while (token);
  return keys;
}

/**
 * The batch objects that may hold messages published in [from, to): one listing per UTC day of the
 * window (a day's prefix), keeping the hours that overlap it. Sorted by first publish time.
 */
export async function windowObjects(
  location: ArchiveLocation,
  from: Date,
  to: Date,
): Promise<(BatchObjectName & { size: number })[]> {
  const objects: (BatchObjectName & { size: number })[] = [];
  const firstHour = startOfHour(from).getTime();
  for (let day = startOfDay(from); day.getTime() < to.getTime(); day = new Date(day.getTime() + 86_400_000)) {
    for (const { key, size } of await listKeys(
      location.s3,
      location.bucket,
      dayPrefix(location.topic, day),
    )) {
      const name = parseBatchObjectKey(key);
      if (!name) continue;
      if (name.hour.getTime() < firstHour || name.hour.getTime() >= to.getTime()) continue;
      objects.push({ ...name, size });
    }
  }
  return objects.sort((a, b) => a.firstPublishedAt.getTime() - b.firstPublishedAt.getTime());
}

export async function readObjectEntries(s3: S3Client, bucket: string, key: string): Promise<ArchiveEntry[]> {
  const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const bytes = await object.Body?.transformToByteArray();
  return bytes ? decodeEntries(bytes, key) : [];
}

/**
 * Every message of the topic published in [from, to), each SNS MessageId once, in publish order
 * (FIFO topics: in SNS sequence number order within each group).
 */
export async function readWindow(location: ArchiveLocation, from: Date, to: Date): Promise<ArchiveEntry[]> {
  const objects = await windowObjects(location, from, to);
  const seen = new Set<string>();
  const entries: ArchiveEntry[] = [];
  for (const object of objects) {
    for (const entry of await readObjectEntries(location.s3, location.bucket, object.key)) {
      const at = Date.parse(entry.publishedAt);
      if (at < from.getTime() || at >= to.getTime() || seen.has(entry.messageId)) continue;
      seen.add(entry.messageId);
      entries.push(entry);
    }
  }
  return entries.sort(publishOrder);
}

/** Publish time, then SNS's sequence number (FIFO), then MessageId: a total, repeatable order. */
export function publishOrder(a: ArchiveEntry, b: ArchiveEntry): number {
  if (a.sequenceNumber && b.sequenceNumber && a.sequenceNumber !== b.sequenceNumber) {
    const x = BigInt(a.sequenceNumber);
    const y = BigInt(b.sequenceNumber);
    return x < y ? -1 : 1;
  }
  const t = Date.parse(a.publishedAt) - Date.parse(b.publishedAt);
  if (t !== 0) return t;
  return a.messageId < b.messageId ? -1 : a.messageId > b.messageId ? 1 : 0;
}

export interface ArchiveStats {
  readonly topic: string;
  /** Messages as the archiver wrote them (a batch written twice after a crash counts twice). */
  readonly messages: number;
  readonly objects: number;
  readonly bytes: number;
  /** First publish time of the oldest object, ISO; absent when the archive is empty. */
  readonly oldest?: string;
  readonly newest?: string;
}

/** A topic archive's size from one listing (counts are in the object names). */
export async function archiveStats(location: ArchiveLocation): Promise<ArchiveStats> {
  let messages = 0;
  let objects = 0;
  let bytes = 0;
  let oldest: number | undefined;
  let newest: number | undefined;
  for (const { key, size } of await listKeys(
    location.s3,
    location.bucket,
    topicArchivePrefix(location.topic),
  )) {
    const name = parseBatchObjectKey(key);
    if (!name) continue;
    objects += 1;
    messages += name.count;
    bytes += size;
    const t = name.firstPublishedAt.getTime();
    oldest = oldest === undefined ? t : Math.min(oldest, t);
    newest = newest === undefined ? t : Math.max(newest, t);
  }
  return {
    topic: location.topic,
    messages,
    objects,
    bytes,
    ...(oldest !== undefined ? { oldest: new Date(oldest).toISOString() } : {}),
    ...(newest !== undefined ? { newest: new Date(newest).toISOString() } : {}),
  };
}

/** The subject hashes on the erasure ledger. */
export async function erasedSubjects(s3: S3Client, bucket: string): Promise<Set<string>> {
  const keys = await listKeys(s3, bucket, ERASED_PREFIX);
  return new Set(keys.map((k) => k.key.slice(ERASED_PREFIX.length)));
}

export interface EraseResult {
  readonly subjectHash: string;
  /** Objects read to look for the subject (every object of the topics given). */
  readonly objectsScanned: number;
  readonly objectsRewritten: number;
  readonly messagesRemoved: number;
  /** Offloaded payloads of the removed messages deleted from the payload bucket. */
  readonly payloadsDeleted: number;
}

/**
 * Erases a subject's messages from the given topics' archives: first the ledger entry (so a replay
 * running meanwhile skips them), then every object holding one is rewritten without them under a
 * new key and the old object deleted (an object left empty is just deleted). Reads the whole
 * archive of each topic: an erasure costs one GET per object.
 */
export async function eraseSubject(
  s3: S3Client,
  bucket: string,
  topics: readonly string[],
  subject: string,
  now: () => Date = () => new Date(),
): Promise<EraseResult> {
  const hash = subjectHash(subject);
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: erasedKey(hash),
      Body: JSON.stringify({ erasedAt: now().toISOString(), topics }),
      ContentType: "application/json",
    }),
  );
  let objectsScanned = 0;
  let objectsRewritten = 0;
  let messagesRemoved = 0;
  let payloadsDeleted = 0;
  for (const topic of topics) {
    for (const { key } of await listKeys(s3, bucket, topicArchivePrefix(topic))) {
      const name = parseBatchObjectKey(key);
      if (!name) continue;
      objectsScanned += 1;
      const entries = await readObjectEntries(s3, bucket, key);
      const kept = entries.filter((e) => e.subject !== hash);
      if (kept.length === entries.length) continue;
      // The payloads first: an object rewritten before a failed payload delete would lose the pointer.
      for (const removed of entries.filter((e) => e.subject === hash && e.payload)) {
        const payload = removed.payload as { bucket: string; key: string };
        await s3.send(new DeleteObjectCommand({ Bucket: payload.bucket, Key: payload.key }));
        payloadsDeleted += 1;
      }
      messagesRemoved += entries.length - kept.length;
      objectsRewritten += 1;
      if (kept.length > 0) {
        const first = new Date(Math.min(...kept.map((e) => Date.parse(e.publishedAt))));
        await s3.send(
          new PutObjectCommand({
            Bucket: bucket,
            Key: batchObjectKey(topic, first, kept.length),
            Body: encodeEntries(kept),
            ContentType: "application/gzip",
          }),
        );
      }
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: key }));
    }
  }
  return { subjectHash: hash, objectsScanned, objectsRewritten, messagesRemoved, payloadsDeleted };
}
