/**
 * Where the archive keeps things in its bucket. Messages are partitioned by publish hour, so the
 * objects of a time window are found by listing a day's prefix (never the whole archive):
 *
 *   archive/<topic>/dt=YYYY-MM-DD/hh=HH/<first publish, ms, 13 digits>-<count>-<batch id>.jsonl.gz
 *
 * The message count is in the name, so `courier archive stats` counts messages from a listing
 * alone. Beside them, outside every topic's lifecycle rule:
 *
 *   archive/_erased/<sha256 of the subject>   the erasure ledger (a replay never re-sends these)
 *   archive/_replays/<runId>.json              a replay's checkpoint (resume without re-sending)
 */
import { randomUUID } from "node:crypto";

export const ARCHIVE_ROOT = "archive/";
export const ERASED_PREFIX = `${ARCHIVE_ROOT}_erased/`;
export const REPLAYS_PREFIX = `${ARCHIVE_ROOT}_replays/`;

/** Every object of one topic's archive is under this prefix (its lifecycle rule's filter). */
export function topicArchivePrefix(topic: string): string {
  return `${ARCHIVE_ROOT}${topic}/`;
}

function pad(n: number, width = 2): string {
  return String(n).padStart(width, "0");
}

export function dayPrefix(topic: string, at: Date): string {
  return `${topicArchivePrefix(topic)}dt=${at.getUTCFullYear()}-${pad(at.getUTCMonth() + 1)}-${pad(at.getUTCDate())}/`;
}

export function hourPrefix(topic: string, at: Date): string {
  return `${dayPrefix(topic, at)}hh=${pad(at.getUTCHours())}/`;
}

/** The key of a new batch object whose first message was published at `firstPublishedAt`. */
export function batchObjectKey(
  topic: string,
  firstPublishedAt: Date,
  count: number,
  batchId: string = randomUUID(),
): string {
  return `${hourPrefix(topic, firstPublishedAt)}${pad(firstPublishedAt.getTime(), 13)}-${count}-${batchId}.jsonl.gz`;
}

export interface BatchObjectName {
  readonly key: string;
  /** The hour the object's messages were published in (start of the hour). */
  readonly hour: Date;
  readonly firstPublishedAt: Date;
  readonly count: number;
}

const BATCH_KEY = /dt=(\d{4})-(\d{2})-(\d{2})\/hh=(\d{2})\/(\d{13})-(\d+)-[^/]+\.jsonl\.gz$/;

/** What a batch object's key says, or undefined for a key that is not one. */
export function parseBatchObjectKey(key: string): BatchObjectName | undefined {
  const m = BATCH_KEY.exec(key);
  if (!m) return undefined;
  const [, y, mo, d, h, first, count] = m;
  return {
    key,
    hour: new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h))),
    firstPublishedAt: new Date(Number(first)),
    count: Number(count),
  };
}

export function erasedKey(hash: string): string {
  return `${ERASED_PREFIX}${hash}`;
}

export function replayCheckpointKey(runId: string): string {
  return `${REPLAYS_PREFIX}${runId}.json`;
}

/** Start of the UTC day / hour containing `at`. */
export function startOfDay(at: Date): Date {
  return new Date(Date.UTC(at.getUTCFullYear(), at.getUTCMonth(), at.getUTCDate()));
}
export function startOfHour(at: Date): Date {
  return new Date(Math.floor(at.getTime() / 3_600_000) * 3_600_000);
}
