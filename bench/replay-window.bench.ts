/**
 * Time to find the start of a one-hour window in a 30-day archive of 1 million messages: simulated
 * smaller on LocalStack's S3 and extrapolated. The archive's keys are partitioned by day and hour
 * (archive/<topic>/dt=YYYY-MM-DD/hh=HH/...), so finding an hour lists ONE day's prefix and reads the
 * first object; without the partitioning (the baseline) a reader lists every key of the topic.
 *
 * Method. 1 M messages over 30 days at the archiver's batches of 100 is ~10,000 objects, ~14 an hour,
 * ~334 a day. The simulated archive holds the window's day at that full density (334 objects of
 * 100 entries) and the 29 other days at a tenth of it (~34 objects each), ~1,300 objects in all.
 * The partitioned lookup touches only the window's day, so its measured time is the full-size
 * figure (one ListObjectsV2 page: a day has fewer than 1,000 keys up to ~8.6 M messages a month).
 * The baseline's time is measured over the ~1,300 simulated keys, then scaled by pages of 1,000 keys
 * to the full archive's 10,000 (and to 1,000,000 for an archive of one object per message).
 *
 * Run alone: npm run bench -- replay-window
 */
import { PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { encodeEntries, entryFromRecord } from "../packages/courier/src/lib/archive/archive-entry.ts";
import {
  batchObjectKey,
  startOfHour,
  topicArchivePrefix,
} from "../packages/courier/src/lib/archive/archive-keys.ts";
import {
  listKeys,
  readObjectEntries,
  windowObjects,
} from "../packages/courier/src/lib/archive/archive-store.ts";
import { localClientConfig } from "../src/dev/local-aws-config.ts";
import { freshBucket, signupNotificationRecord } from "./lib/archive-fixtures.ts";
import type { BenchContext, Benchmark, BenchResult, Row } from "./lib/benchmark.ts";
import { forEachWithConcurrency } from "./lib/concurrency.ts";
import { percentile, round } from "./lib/stats.ts";

const TOPIC = "account-signups";
const FULL_OBJECTS_PER_HOUR = 14;
const SPARSE_OBJECTS_PER_DAY = 34;
const FULL_ARCHIVE_OBJECTS = 10_000;
const REPEATS = 7;

export async function measureWindow(log: (line: string) => void): Promise<BenchResult> {
  const s3 = new S3Client(localClientConfig());
  const bucket = await freshBucket(s3, "replay-window");
  const body = encodeEntries(
    Array.from({ length: 100 }, (_, n) => entryFromRecord(signupNotificationRecord(n), TOPIC, "accountId")),
  );
  const now = startOfHour(new Date());
  const windowDay = new Date(now.getTime() - 15 * 86_400_000);
  const dayStart = Date.UTC(windowDay.getUTCFullYear(), windowDay.getUTCMonth(), windowDay.getUTCDate());
  const windowStart = new Date(dayStart + 13 * 3_600_000);
  const keys: string[] = [];
  for (let day = 0; day < 30; day++) {
    const start = dayStart + (day - 15) * 86_400_000;
    const full = day === 15;
    const count = full ? 24 * FULL_OBJECTS_PER_HOUR : SPARSE_OBJECTS_PER_DAY;
    for (let i = 0; i < count; i++) {
      const at = new Date(start + Math.floor((i * 86_400_000) / count));
      keys.push(batchObjectKey(TOPIC, at, 100));
    }
  }
  log(`  writing ${keys.length} archive objects (30 days; the window's day at full density)`);
  await forEachWithConcurrency(keys.length, 8, async (i) => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: keys[i] as string, Body: body }));
  });

  const time = async (find: () => Promise<unknown>) => {
    const samples: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      const started = performance.now();
      await find();
      samples.push(performance.now() - started);
    }
    return percentile(samples, 50);
  };
  const windowEnd = new Date(windowStart.getTime() + 3_600_000);
  // Partitioned: list the day's prefix, keep the hour's objects, read the first one.
  let found = 0;
  const partitioned = await time(async () => {
    const objects = await windowObjects({ s3, bucket, topic: TOPIC }, windowStart, windowEnd);
    found = objects.length;
    const first = objects[0];
    if (first) await readObjectEntries(s3, bucket, first.key);
  });
  // Baseline: list every key of the topic, keep the hour's, read the first one.
  let listed = 0;
  const scan = await time(async () => {
    const all = await listKeys(s3, bucket, topicArchivePrefix(TOPIC));
    listed = all.length;
    const hour = `hh=${String(windowStart.getUTCHours()).padStart(2, "0")}/`;
    const first = all.find(
      (k) => k.key.includes(hour) && k.key.includes(windowStart.toISOString().slice(0, 10)),
    );
    if (first) await readObjectEntries(s3, bucket, first.key);
  });
  const pages = (n: number) => Math.ceil(n / 1000);
  const perPage = scan / pages(listed);
  const rows: Row[] = [
    {
      lookup: "list every key of the topic (baseline), measured",
      "keys listed": listed,
      "LIST pages": pages(listed),
      "ms (median of 7)": round(scan, 1),
    },
    {
      lookup: "list every key, extrapolated to 1 M messages in batches of 100",
      "keys listed": FULL_ARCHIVE_OBJECTS,
      "LIST pages": pages(FULL_ARCHIVE_OBJECTS),
      "ms (median of 7)": round(perPage * pages(FULL_ARCHIVE_OBJECTS), 0),
    },
    {
      lookup: "list every key, extrapolated to 1 M objects (one per message)",
      "keys listed": 1_000_000,
      "LIST pages": pages(1_000_000),
      "ms (median of 7)": round(perPage * pages(1_000_000), 0),
    },
    {
      lookup: "courier: list the window's day prefix, keep its hour (full density: measured = full size)",
      "keys listed": 24 * FULL_OBJECTS_PER_HOUR,
      "LIST pages": 1,
      "ms (median of 7)": round(partitioned, 1),
    },
  ];
  return {
    rows,
    notes: [
      `The window: ${windowStart.toISOString()} to ${windowEnd.toISOString()}, ${found} objects of 100 messages found. Every lookup also GETs and decodes the window's first object (100 entries, ${body.length} bytes gzipped).`,
      "Method (see the file's comment): the partitioned lookup reads only the window's day, simulated at the density of 1 M messages in 30 days, so its time is not extrapolated. The baseline's scan is measured over the simulated keys and scaled by LIST pages (1,000 keys each), its per-page time taken from the measured run.",
      "LocalStack on the same machine: S3's per-request latency in AWS is higher (tens of ms per LIST), which scales the baseline by its page count and the partitioned lookup by one.",
    ],
  };
}

export const benchmark: Benchmark = {
  name: "replay-window",
  description:
    "Finding the start of a one-hour window in a 30-day archive of 1 M messages (simulated smaller, extrapolated)",
  run: (context: BenchContext) => measureWindow(context.log),
};
export default benchmark;
