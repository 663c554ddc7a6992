/**
 * Redrive against LocalStack's real SQS: uniquely named queue pairs per test, consumers built with
 * defineConsumer that fail (and dead-letter with `courier.failure`) and then are "fixed".
 */
import { Logger } from "@aws-lambda-powertools/logger";
import type { SQSMessageAttributes } from "aws-lambda";
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { redriveInBulk } from "../../packages/courier/src/lib/redrive/bulk.ts";
import { MoveTaskAlreadyRunningError } from "../../packages/courier/src/lib/redrive/errors.ts";
import { peekDlq } from "../../packages/courier/src/lib/redrive/peek.ts";
import { redriveSelectively } from "../../packages/courier/src/lib/redrive/selective.ts";
import { localEndpoint } from "../../src/dev/local-aws-config.ts";
import {
  type ConsumerHandler,
  type ConsumerMetrics,
  defineConsumer,
  FAILURE_ATTRIBUTE,
  LINEAGE_ATTRIBUTE,
  type Lineage,
  PermanentError,
} from "../helpers/example-consumer.ts";
import type { PreparedMessage } from "../helpers/example-publisher.ts";
import {
  createQueuePair,
  deleteCreatedQueues,
  depth,
  drainQueue,
  eventually,
  imageUploads,
  newAccounts,
  type QueuePair,
  runConsumer,
  sendAll,
  sqs,
  visibleDepth,
} from "./redrive-support.ts";

/** The bug an operator fixes before redriving. */
class TemplateMissingError extends PermanentError {
  override readonly name = "TemplateMissingError";
}

const quietLogger = () => new Logger({ serviceName: "redrive-it", logLevel: "SILENT" });
const noMetrics = {
  addMetric: () => undefined,
  publishStoredMetrics: () => undefined,
} as unknown as ConsumerMetrics;

function failingConsumer(pair: QueuePair): ConsumerHandler {
  return defineConsumer({
    name: "verification-email",
    sqs,
    queueUrl: pair.queueUrl,
    dlqUrl: pair.dlqUrl,
    logger: quietLogger(),
    metrics: noMetrics,
    handle: () => {
      throw new TemplateMissingError("template verification-email/en-US is missing");
    },
  });
}

interface Processed {
  readonly eventId: string;
  readonly messageId: string;
  readonly body: string;
  readonly attributes: SQSMessageAttributes;
}

function fixedConsumer(pair: QueuePair, processed: Processed[]): ConsumerHandler {
  return defineConsumer({
    name: "verification-email",
    sqs,
    queueUrl: pair.queueUrl,
    dlqUrl: pair.dlqUrl,
    logger: quietLogger(),
    metrics: noMetrics,
    handle: (_message, ctx) => {
      processed.push({
        eventId: ctx.eventId,
        messageId: ctx.messageId,
        body: ctx.record.body,
        attributes: ctx.record.messageAttributes,
      });
    },
  });
}

/** Sends `messages` to the source queue and lets the failing consumer dead-letter every one. */
async function deadLetter(pair: QueuePair, messages: readonly PreparedMessage[]): Promise<void> {
  const before = await depth(pair.dlqUrl);
  await sendAll(pair.queueUrl, messages);
  await runConsumer(
    failingConsumer(pair),
    pair,
    async () => (await depth(pair.queueUrl)) === 0 && (await depth(pair.dlqUrl)) === before + messages.length,
  );
}

const eventIdOf = (body: string | undefined): string => JSON.parse(body ?? "{}").eventId;
const lineageOf = (value: string | undefined): Lineage => JSON.parse(value ?? "{}");

afterAll(deleteCreatedQueues);
afterEach(() => {
  vi.unstubAllEnvs();
});

describe("selective redrive on LocalStack", () => {
  it("GIVEN 1,000 messages dead-lettered by a failing consumer WHEN redriven and the fixed consumer runs THEN each is processed exactly once with body, attributes and lineage intact", async () => {
    const pair = await createQueuePair("thousand");
    const originals = newAccounts(1000);
    await deadLetter(pair, originals);
    const peeked = await peekDlq({ sqs, dlqUrl: pair.dlqUrl, max: 5 });
    expect(peeked.messages.every((m) => m.errorClass === "TemplateMissingError")).toBe(true);

    const summary = await redriveSelectively({ sqs, dlqUrl: pair.dlqUrl, queueUrl: pair.queueUrl });
    const processed: Processed[] = [];
    await runConsumer(
      fixedConsumer(pair, processed),
      pair,
      async () => processed.length >= originals.length && (await depth(pair.queueUrl)) === 0,
    );

    expect(summary).toMatchObject({ moved: 1000, skipped: 0, quarantined: 0, failed: 0, duplicates: 0 });
    expect(processed).toHaveLength(1000);
    expect(new Set(processed.map((p) => p.eventId)).size).toBe(1000);
    expect(await depth(pair.dlqUrl)).toBe(0);
    const byEventId = new Map(originals.map((o) => [o.envelope.eventId, o]));
    const mismatches = processed.filter((p) => {
      const original = byEventId.get(p.eventId);
      if (!original || p.body !== original.body) return true;
      const attributesIntact = Object.entries(original.attributes).every(
        ([name, value]) => p.attributes[name]?.stringValue === value.StringValue,
      );
      const lineage = lineageOf(p.attributes[LINEAGE_ATTRIBUTE]?.stringValue);
      const failure = JSON.parse(p.attributes[FAILURE_ATTRIBUTE]?.stringValue ?? "{}");
      return (
        !attributesIntact ||
        lineage.redriveCount !== 1 ||
        !lineage.originalMessageId ||
        lineage.originalMessageId === p.messageId ||
        failure.errorClass !== "TemplateMissingError"
      );
    });
    expect(mismatches).toEqual([]);
  });

  it("GIVEN a DLQ holding two message types WHEN redriving one type THEN only that type moves and the rest stays visible in the DLQ", async () => {
    const pair = await createQueuePair("by-type");
    await deadLetter(pair, [...newAccounts(30), ...imageUploads(20)]);

    const summary = await redriveSelectively({
      sqs,
      dlqUrl: pair.dlqUrl,
      queueUrl: pair.queueUrl,
      filter: { type: "NewAccount" },
    });

    const moved = await drainQueue(pair.queueUrl);
    expect(summary).toMatchObject({ moved: 30, skipped: 20 });
    expect(moved.map((m) => m.MessageAttributes?.type?.StringValue)).toEqual(Array(30).fill("NewAccount"));
    expect(await visibleDepth(pair.dlqUrl)).toBe(20);
  });

  it("GIVEN a DLQ holding two failure classes WHEN redriving one error class THEN only messages that failed with it move", async () => {
    const pair = await createQueuePair("by-error");
    // The verification-email consumer rejects image uploads as UnsupportedMessageError.
    await deadLetter(pair, [...newAccounts(10), ...imageUploads(15)]);

    const summary = await redriveSelectively({
      sqs,
      dlqUrl: pair.dlqUrl,
      queueUrl: pair.queueUrl,
      filter: { errorClass: "UnsupportedMessageError" },
    });

    const moved = await drainQueue(pair.queueUrl);
    expect(summary).toMatchObject({ moved: 15, skipped: 10 });
    expect(new Set(moved.map((m) => m.MessageAttributes?.type?.StringValue))).toEqual(
      new Set(["ImageUploaded"]),
    );
  });

  it("GIVEN a dead-lettered batch WHEN dry-running THEN it reports what would move, moves nothing and leaves every message visible", async () => {
    const pair = await createQueuePair("dry-run");
    await deadLetter(pair, newAccounts(25));

    const summary = await redriveSelectively({
      sqs,
      dlqUrl: pair.dlqUrl,
      queueUrl: pair.queueUrl,
      dryRun: true,
    });

    expect(summary).toMatchObject({ dryRun: true, moved: 25, failed: 0 });
    expect(summary.items).toHaveLength(25);
    expect(await depth(pair.queueUrl)).toBe(0);
    expect(await visibleDepth(pair.dlqUrl)).toBe(25);
    const inDlq = await drainQueue(pair.dlqUrl);
    expect(inDlq.filter((m) => m.MessageAttributes?.[LINEAGE_ATTRIBUTE])).toEqual([]);
  });

  it("GIVEN a crash between send and delete WHEN the redrive is rerun THEN every message reaches the source queue, the crashed batch twice", async () => {
    const pair = await createQueuePair("crash");
    const originals = newAccounts(50);
    await deadLetter(pair, originals);
    let batches = 0;

    const crashed = redriveSelectively({
      sqs,
      dlqUrl: pair.dlqUrl,
      queueUrl: pair.queueUrl,
      hooks: {
        afterSendBeforeDelete: () => {
          batches += 1;
          if (batches === 3) throw new Error("injected crash");
        },
      },
    });
    await expect(crashed).rejects.toThrow("injected crash");
    // The crashed batch is in both queues; the batches of the other workers finished cleanly.
    const [afterCrashSource, afterCrashDlq] = [await depth(pair.queueUrl), await depth(pair.dlqUrl)];
    expect(afterCrashSource + afterCrashDlq).toBe(60);
    const rerun = await redriveSelectively({ sqs, dlqUrl: pair.dlqUrl, queueUrl: pair.queueUrl });

    const inSource = await drainQueue(pair.queueUrl);
    expect(rerun.moved).toBe(afterCrashDlq);
    expect(await depth(pair.dlqUrl)).toBe(0);
    expect(new Set(inSource.map((m) => eventIdOf(m.Body)))).toEqual(
      new Set(originals.map((o) => o.envelope.eventId)),
    );
    const duplicates = inSource.length - originals.length;
    expect(duplicates).toBe(10);
  });

  it("GIVEN a message that keeps failing WHEN redriven past the limit THEN it stays in the DLQ as quarantined with its lineage and reason", async () => {
    const pair = await createQueuePair("quarantine");
    const maxRedrives = 2;
    await deadLetter(pair, newAccounts(3));
    const moves: number[] = [];
    for (let round = 0; round < maxRedrives; round += 1) {
      const summary = await redriveSelectively({
        sqs,
        dlqUrl: pair.dlqUrl,
        queueUrl: pair.queueUrl,
        maxRedrives,
      });
      moves.push(summary.moved);
      await runConsumer(
        failingConsumer(pair),
        pair,
        async () => (await depth(pair.queueUrl)) === 0 && (await depth(pair.dlqUrl)) === 3,
      );
    }

    const last = await redriveSelectively({ sqs, dlqUrl: pair.dlqUrl, queueUrl: pair.queueUrl, maxRedrives });

    expect(moves).toEqual([3, 3]);
    expect(last).toMatchObject({ moved: 0, quarantined: 3 });
    expect(await depth(pair.queueUrl)).toBe(0);
    const peeked = await peekDlq({ sqs, dlqUrl: pair.dlqUrl });
    expect(peeked.messages.map((m) => [m.redriveCount, m.errorClass])).toEqual(
      Array(3).fill([2, "TemplateMissingError"]),
    );
  });
});

describe("selective redrive with the consumer still broken, on LocalStack", () => {
  it("GIVEN the consumer still fails WHEN a selective redrive runs THEN each message moves once and its return to the DLQ is reported as returned with the new reason", async () => {
    const pair = await createQueuePair("returned");
    await deadLetter(pair, newAccounts(3));

    const summary = await redriveSelectively({
      sqs,
      dlqUrl: pair.dlqUrl,
      queueUrl: pair.queueUrl,
      concurrency: 1,
      includeItems: true,
      hooks: {
        // The still-broken consumer handles the moved batch before the run goes on: each message
        // is back in the DLQ (new MessageId, same lineage) before the run's next receive.
        afterSendBeforeDelete: () =>
          runConsumer(
            failingConsumer(pair),
            pair,
            async () => (await depth(pair.queueUrl)) === 0 && (await depth(pair.dlqUrl)) === 6,
          ),
      },
    });

    expect(summary).toMatchObject({ moved: 3, returned: 3, failed: 0, quarantined: 0 });
    const returned = (summary.items ?? []).filter((i) => i.action === "returned");
    expect(returned.map((i) => i.errorClass)).toEqual(Array(3).fill("TemplateMissingError"));
    expect(returned.every((i) => i.reason?.includes("template verification-email/en-US is missing"))).toBe(
      true,
    );
    const peeked = await peekDlq({ sqs, dlqUrl: pair.dlqUrl });
    expect(peeked.messages.map((m) => m.redriveCount)).toEqual([1, 1, 1]);
  });
});

describe("bulk redrive on LocalStack", () => {
  it("GIVEN a dead-lettered batch WHEN redriven in bulk THEN SQS's move task takes every message back, bodies and attributes intact", async () => {
    const pair = await createQueuePair("bulk");
    const originals = newAccounts(100);
    await deadLetter(pair, originals);
    const progress: number[] = [];

    const summary = await redriveInBulk({
      sqs,
      dlqArn: pair.dlqArn,
      queueArn: pair.queueArn,
      pollIntervalMs: 200,
      onProgress: (p) => progress.push(p.moved),
    });

    const moved = await drainQueue(pair.queueUrl);
    expect(summary).toMatchObject({ mode: "bulk", status: "COMPLETED", moved: 100, cancelled: false });
    expect(progress.at(-1)).toBe(100);
    expect(await depth(pair.dlqUrl)).toBe(0);
    const byEventId = new Map(originals.map((o) => [o.envelope.eventId, o]));
    const intact = moved.filter((m) => {
      const original = byEventId.get(eventIdOf(m.Body));
      return m.Body === original?.body && m.MessageAttributes?.type?.StringValue === "NewAccount";
    });
    expect(intact).toHaveLength(100);
  });

  it("GIVEN a slow move task running WHEN another bulk redrive starts THEN it fails typed, and aborting the first cancels it without losing messages", async () => {
    const pair = await createQueuePair("bulk-cancel");
    await deadLetter(pair, newAccounts(40));
    const controller = new AbortController();
    let running!: () => void;
    const started = new Promise<void>((resolve) => {
      running = resolve;
    });

    const first = redriveInBulk({
      sqs,
      dlqArn: pair.dlqArn,
      queueArn: pair.queueArn,
      maxMessagesPerSecond: 2,
      pollIntervalMs: 200,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.status === "RUNNING" && p.moved >= 1) running();
      },
    });
    await started;
    const second = redriveInBulk({ sqs, dlqArn: pair.dlqArn, queueArn: pair.queueArn });
    await expect(second).rejects.toBeInstanceOf(MoveTaskAlreadyRunningError);
    controller.abort();
    const summary = await first;

    expect(summary.cancelled).toBe(true);
    expect(summary.moved).toBeLessThan(40);
    await eventually(async () => (await depth(pair.queueUrl)) + (await depth(pair.dlqUrl)) === 40);
  });
});

describe("redrive function on LocalStack", () => {
  it("GIVEN the function configured with one consumer's pair WHEN invoked THEN it moves that consumer's messages and refuses any other consumer", async () => {
    const pair = await createQueuePair("function");
    await deadLetter(pair, newAccounts(12));
    // The function builds its client from the default chain, as on Lambda: point it at LocalStack.
    vi.stubEnv("AWS_ENDPOINT_URL", localEndpoint());
    vi.stubEnv("AWS_REGION", "us-east-1");
    vi.stubEnv("AWS_ACCESS_KEY_ID", "test");
    vi.stubEnv("AWS_SECRET_ACCESS_KEY", "test");
    vi.stubEnv("POWERTOOLS_LOG_LEVEL", "SILENT");
    vi.stubEnv("COURIER_REDRIVE_PAIRS", JSON.stringify({ "verification-email": pair }));
    const { handler } = await import("../../packages/courier/src/redrive-function/handler.ts");
    const context = { getRemainingTimeInMillis: () => 900_000 } as never;

    const summary = await handler({ consumer: "verification-email", mode: "selective", max: 5 }, context);

    expect(summary).toMatchObject({ mode: "selective", moved: 5 });
    expect(await depth(pair.queueUrl)).toBe(5);
    await expect(handler({ consumer: "thumbnails", mode: "bulk" }, context)).rejects.toThrow(
      'unknown consumer "thumbnails"',
    );
  });
});
