/**
 * Replay: sends a topic's archived messages from a time window to ONE consumer's queue (never the
 * topic, so no other consumer sees them), as that consumer's subscription would have delivered them:
 * only what its filter policy accepts, raw for a standard queue and as the SNS notification for a
 * FIFO queue (in SNS sequence order per message group), each with the `courier.replay` lineage
 * attribute. Messages of an erased subject are never sent. A checkpoint object after every batch
 * lets an interrupted run resume where it stopped.
 *
 * Everything it needs is given (S3 and SQS clients, the bucket, the consumer's queue): it knows
 * nothing of stacks or manifests (the CLI and console resolve those).
 */

import { createHash, randomUUID } from "node:crypto";
import { GetObjectCommand, PutObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import {
  type MessageAttributeValue,
  SendMessageBatchCommand,
  type SendMessageBatchCommandOutput,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from "@aws-sdk/client-sqs";
import * as z from "zod";
import type { ArchiveEntry } from "../archive/archive-entry.ts";
import { replayCheckpointKey } from "../archive/archive-keys.ts";
import { erasedSubjects, publishOrder, readWindow } from "../archive/archive-store.ts";
import { REPLAY_ATTRIBUTE, type ReplayLineage } from "../consumer/replay-lineage.ts";
import { tenantGroupIdOfBody } from "../publisher/tenant.ts";
import { replaySpan } from "../redrive/trace.ts";
import { type FilterPolicy, filterPolicyAccepts } from "./filter-policy.ts";

/** The consumer a replay goes to, as its deployment describes it. */
export interface ReplayTarget {
  readonly consumer: string;
  readonly topic: string;
  readonly queueUrl: string;
  /** A FIFO queue gets the SNS notification (raw delivery off), with the group and a dedup id. */
  readonly fifo: boolean;
  readonly filterPolicy?: FilterPolicy | undefined;
  /** The topic's ARN, put in a FIFO notification's TopicArn. @default "" */
  readonly topicArn?: string;
  /**
   * The topic's tenant field (fair delivery per tenant): a standard queue's copy goes with its
   * tenant as MessageGroupId, as the live message did, so a replay is served fairly too. The
   * archived group is used when the entry has one, else the tenant is read from the body.
   * @default - none: copies carry the archived group only
   */
  readonly tenant?: string | undefined;
}

export interface ReplayWindow {
  /** Inclusive. */
  readonly from: Date;
  /** Exclusive. */
  readonly to: Date;
  /** Only these envelope types. @default every type */
  readonly types?: readonly string[];
}

export interface ReplaySources {
  readonly s3: S3Client;
  /** The archive bucket (the stack's `archiveBucket`). */
  readonly bucket: string;
  readonly target: ReplayTarget;
}

export interface ReplayPlan {
  readonly consumer: string;
  readonly topic: string;
  readonly from: string;
  readonly to: string;
  /** Messages of the topic archived in the window. */
  readonly archived: number;
  /** What the replay would send. */
  readonly toSend: number;
  /** Left out: the consumer's filter policy does not accept them (its subscription never did). */
  readonly filteredOut: number;
  /** Left out: not of the types asked for. */
  readonly otherTypes: number;
  /** Left out: their subject was erased. */
  readonly erased: number;
  /** What would be sent, by envelope type and by UTC day of publish. */
  readonly byType: Readonly<Record<string, number>>;
  readonly byDay: Readonly<Record<string, number>>;
}

interface Selection {
  readonly plan: ReplayPlan;
  readonly entries: readonly ArchiveEntry[];
}

async function select(sources: ReplaySources, window: ReplayWindow): Promise<Selection> {
  const { s3, bucket, target } = sources;
  const [all, erased] = await Promise.all([
    readWindow({ s3, bucket, topic: target.topic }, window.from, window.to),
    erasedSubjects(s3, bucket),
  ]);
  let filteredOut = 0;
  let otherTypes = 0;
  let erasedCount = 0;
  const byType: Record<string, number> = {};
  const byDay: Record<string, number> = {};
  const entries: ArchiveEntry[] = [];
  for (const entry of all) {
    if (entry.subject && erased.has(entry.subject)) {
      erasedCount += 1;
      continue;
    }
    if (window.types?.length && !window.types.includes(entry.type ?? "")) {
      otherTypes += 1;
      continue;
    }
    if (!filterPolicyAccepts(target.filterPolicy, entry.attributes)) {
      filteredOut += 1;
      continue;
    }
    entries.push(entry);
    const type = entry.type ?? "(not an envelope)";
    byType[type] = (byType[type] ?? 0) + 1;
    const day = entry.publishedAt.slice(0, 10);
    byDay[day] = (byDay[day] ?? 0) + 1;
  }
  return {
    entries,
    plan: {
      consumer: target.consumer,
      topic: target.topic,
      from: window.from.toISOString(),
      to: window.to.toISOString(),
      archived: all.length,
      toSend: entries.length,
      filteredOut,
      otherTypes,
      erased: erasedCount,
      byType,
      byDay,
    },
  };
}

/** The dry run: what a replay of the window would send the consumer, counted by type and day. */
export async function planReplay(sources: ReplaySources, window: ReplayWindow): Promise<ReplayPlan> {
  return (await select(sources, window)).plan;
}

const checkpointSchema = z.object({
  runId: z.string(),
  consumer: z.string(),
  topic: z.string(),
  from: z.string(),
  to: z.string(),
  types: z.array(z.string()).default([]),
  reprocess: z.boolean(),
  /** The last message sent and confirmed (everything before it in publish order was sent too). */
  cursor: z
    .object({ messageId: z.string(), publishedAt: z.string(), sequenceNumber: z.string().optional() })
    .nullable(),
  sent: z.number().int(),
  done: z.boolean(),
  startedAt: z.string(),
  updatedAt: z.string(),
});
export type ReplayCheckpoint = z.infer<typeof checkpointSchema>;

export class ReplayResumeError extends Error {
  override readonly name = "ReplayResumeError";
}

/** A replay's checkpoint, or undefined when there is none for that run id. */
export async function readReplayCheckpoint(
  s3: S3Client,
  bucket: string,
  runId: string,
): Promise<ReplayCheckpoint | undefined> {
  try {
    const object = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: replayCheckpointKey(runId) }));
    const text = await object.Body?.transformToString();
    return text ? checkpointSchema.parse(JSON.parse(text)) : undefined;
  } catch (error) {
    if ((error as { name?: string }).name === "NoSuchKey") return undefined;
    throw error;
  }
}

export interface ReplayProgress {
  readonly runId: string;
  readonly sent: number;
  readonly total: number;
}

export interface ReplayOptions extends ReplaySources {
  readonly sqs: SQSClient;
  /** The window; on a resume, the checkpoint's window is used and this is ignored. */
  readonly window?: ReplayWindow;
  /** Redo work the consumer already completed, once per run. @default false */
  readonly reprocess?: boolean;
  /** Resume this run from its checkpoint (the window, types and reprocess come from it). */
  readonly resume?: string;
  /** @default a new UUID */
  readonly runId?: string;
  /** At most this many messages per second. @default no limit */
  readonly ratePerSecond?: number;
  /** Stops after the batch in flight; the checkpoint then says where to resume. */
  readonly signal?: AbortSignal;
  readonly onProgress?: (progress: ReplayProgress) => void;
  readonly now?: () => Date;
}

export interface ReplaySummary {
  readonly runId: string;
  readonly consumer: string;
  readonly topic: string;
  readonly from: string;
  readonly to: string;
  readonly reprocess: boolean;
  /** Sent by this invocation. */
  readonly sent: number;
  /** Sent by the earlier invocations of a resumed run (skipped now). */
  readonly alreadySent: number;
  readonly plan: ReplayPlan;
  /** False when stopped (signal) or failed before the end: resume with the runId. */
  readonly done: boolean;
  readonly seconds: number;
  /** Messages per second of this invocation. */
  readonly ratePerSecond: number;
}

const SEND_BATCH = 10;
const SEND_ATTEMPTS = 3;

/** A standard queue's copy: the message as SNS raw delivery would have put it there. */
function sqsAttributes(entry: ArchiveEntry): Record<string, MessageAttributeValue> {
  return Object.fromEntries(
    Object.entries(entry.attributes).map(([name, a]) => [
      name,
      { DataType: a.type === "Number" ? "Number" : "String", StringValue: a.value },
    ]),
  );
}

/** A FIFO queue's copy: the SNS notification (courier's FIFO subscriptions have raw delivery off). */
function notificationBody(entry: ArchiveEntry, topicArn: string): string {
  return JSON.stringify({
    Type: "Notification",
    MessageId: entry.messageId,
    ...(entry.sequenceNumber ? { SequenceNumber: entry.sequenceNumber } : {}),
    TopicArn: topicArn,
    Message: entry.message,
    Timestamp: entry.publishedAt,
    MessageAttributes: Object.fromEntries(
      Object.entries(entry.attributes).map(([name, a]) => [name, { Type: a.type, Value: a.value }]),
    ),
  });
}

/** The SendMessageBatch entry for one archived message on the target queue (exported for its tests). */
export function sendEntry(
  entry: ArchiveEntry,
  index: number,
  target: ReplayTarget,
  lineage: ReplayLineage,
): SendMessageBatchRequestEntry {
  const replayAttribute = {
    [REPLAY_ATTRIBUTE]: { DataType: "String", StringValue: JSON.stringify(lineage) },
  };
  if (!target.fifo) {
    const group =
      entry.groupId ??
      (target.tenant ? tenantGroupIdOfBody({ tenant: { from: target.tenant } }, entry.message) : undefined);
    return {
      Id: String(index),
      MessageBody: entry.message,
      MessageAttributes: { ...sqsAttributes(entry), ...replayAttribute },
      ...(group ? { MessageGroupId: group } : {}),
    };
  }
  return {
    Id: String(index),
    MessageBody: notificationBody(entry, target.topicArn ?? ""),
    MessageAttributes: replayAttribute,
    MessageGroupId: entry.groupId ?? entry.messageId,
    // Per run and message: SQS drops a resend of this run within its 5-minute window.
    MessageDeduplicationId: createHash("sha256").update(`${lineage.runId}:${entry.messageId}`).digest("hex"),
  };
}

async function writeCheckpoint(s3: S3Client, bucket: string, checkpoint: ReplayCheckpoint): Promise<void> {
  await s3.send(
    new PutObjectCommand({
      Bucket: bucket,
      Key: replayCheckpointKey(checkpoint.runId),
      Body: JSON.stringify(checkpoint),
      ContentType: "application/json",
    }),
  );
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Replays the window into the consumer's queue. Sends in publish order (per group on FIFO), ten at
 * a time; a batch entry SQS refuses is retried, and after three refusals the run stops there
 * (`done: false`) with the checkpoint at the last message sent before it. A resumed run skips
 * everything up to its checkpoint; what the interrupted invocation sent after its last checkpoint
 * (at most one batch) is sent again, and the consumer's idempotency makes it once.
 */
export async function replay(options: ReplayOptions): Promise<ReplaySummary> {
  const now = options.now ?? (() => new Date());
  const started = performance.now();
  const { s3, bucket, target, sqs } = options;
  let checkpoint: ReplayCheckpoint;
  if (options.resume) {
    const found = await readReplayCheckpoint(s3, bucket, options.resume);
    if (!found) throw new ReplayResumeError(`no replay checkpoint for run ${options.resume}`);
    if (found.consumer !== target.consumer) {
      throw new ReplayResumeError(
        `run ${options.resume} replayed to ${found.consumer}, not ${target.consumer}`,
      );
    }
    checkpoint = found;
  } else {
    if (!options.window) throw new ReplayResumeError("a replay needs a window (from, to) or a run to resume");
    checkpoint = {
      runId: options.runId ?? randomUUID(),
      consumer: target.consumer,
      topic: target.topic,
      from: options.window.from.toISOString(),
      to: options.window.to.toISOString(),
      types: [...(options.window.types ?? [])],
      reprocess: options.reprocess ?? false,
      cursor: null,
      sent: 0,
      done: false,
      startedAt: now().toISOString(),
      updatedAt: now().toISOString(),
    };
  }
  const window: ReplayWindow = {
    from: new Date(checkpoint.from),
    to: new Date(checkpoint.to),
    ...(checkpoint.types.length > 0 ? { types: checkpoint.types } : {}),
  };
  const { entries, plan } = await select(options, window);
  const alreadySent = checkpoint.sent;
  const cursor = checkpoint.cursor;
  const pending = cursor
    ? entries.filter(
        (e) =>
          publishOrder(e, {
            ...e,
            messageId: cursor.messageId,
            publishedAt: cursor.publishedAt,
            sequenceNumber: cursor.sequenceNumber,
          }) > 0,
      )
    : entries;
  const lineage: ReplayLineage = {
    runId: checkpoint.runId,
    from: checkpoint.from,
    to: checkpoint.to,
    reprocess: checkpoint.reprocess,
  };
  if (!cursor) await writeCheckpoint(s3, bucket, checkpoint);

  let sent = 0;
  let stopped = false;
  const minBatchMs = options.ratePerSecond ? (1000 * SEND_BATCH) / options.ratePerSecond : 0;
  for (let i = 0; i < pending.length; i += SEND_BATCH) {
    if (options.signal?.aborted) {
      stopped = true;
      break;
    }
    const batchStarted = performance.now();
    const batch = pending.slice(i, i + SEND_BATCH);
    let outstanding = batch.map((entry, j) => sendEntry(entry, i + j, target, lineage));
    // A PRODUCER span per message, linked to its first producer: the journey reads on past the replay.
    const spans = new Map(
      outstanding.map((e, j) => [
        e.Id,
        replaySpan(target.queueUrl, batch[j] as (typeof batch)[number], lineage.runId),
      ]),
    );
    for (let attempt = 1; attempt <= SEND_ATTEMPTS && outstanding.length > 0; attempt++) {
      let result: SendMessageBatchCommandOutput;
      try {
        result = await sqs.send(
          new SendMessageBatchCommand({ QueueUrl: target.queueUrl, Entries: outstanding }),
        );
      } catch (error) {
        for (const span of spans.values()) span?.fail(error);
        throw error;
      }
      for (const ok of result.Successful ?? []) {
        spans.get(ok.Id)?.sent(ok.MessageId);
        spans.delete(ok.Id);
      }
      const failed = new Set((result.Failed ?? []).map((f) => f.Id));
      outstanding = outstanding.filter((e) => failed.has(e.Id));
      if (outstanding.length > 0 && attempt < SEND_ATTEMPTS) await sleep(200 * 2 ** attempt);
    }
    for (const span of spans.values()) span?.fail(new Error("SendMessageBatch refused it after retries"));
    // Everything up to the first entry still refused was sent: the cursor moves that far only.
    const firstRefused =
      outstanding.length > 0 ? Math.min(...outstanding.map((e) => Number(e.Id))) - i : batch.length;
    const confirmed = batch.slice(0, firstRefused);
    sent += confirmed.length;
    const last = confirmed.at(-1);
    if (last) {
      checkpoint = {
        ...checkpoint,
        cursor: {
          messageId: last.messageId,
          publishedAt: last.publishedAt,
          ...(last.sequenceNumber ? { sequenceNumber: last.sequenceNumber } : {}),
        },
        sent: alreadySent + sent,
        updatedAt: now().toISOString(),
      };
    }
    if (outstanding.length > 0) {
      await writeCheckpoint(s3, bucket, checkpoint);
      stopped = true;
      break;
    }
    const isLast = i + SEND_BATCH >= pending.length;
    if (isLast) checkpoint = { ...checkpoint, done: true };
    await writeCheckpoint(s3, bucket, checkpoint);
    options.onProgress?.({
      runId: checkpoint.runId,
      sent: alreadySent + sent,
      total: alreadySent + pending.length,
    });
    const wait = minBatchMs - (performance.now() - batchStarted);
    if (wait > 0 && !isLast) await sleep(wait);
  }
  if (pending.length === 0 && !stopped) {
    checkpoint = { ...checkpoint, done: true, updatedAt: now().toISOString() };
    await writeCheckpoint(s3, bucket, checkpoint);
  }
  const seconds = (performance.now() - started) / 1000;
  return {
    runId: checkpoint.runId,
    consumer: target.consumer,
    topic: target.topic,
    from: checkpoint.from,
    to: checkpoint.to,
    reprocess: checkpoint.reprocess,
    sent,
    alreadySent,
    plan,
    done: !stopped,
    seconds,
    ratePerSecond: seconds > 0 ? sent / seconds : 0,
  };
}
