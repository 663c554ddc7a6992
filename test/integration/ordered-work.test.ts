/**
 * Ordered work on LocalStack's real SNS FIFO and SQS FIFO: 20 accounts × 50 password reset
 * requests published interleaved, both consumers (the runtime on the FIFO queues through the local
 * event source, 5 pollers each) with transient failures injected, a poison pill in one account.
 *
 * Failure modes covered: an account's audit entries swapped, missing or duplicated under retries;
 * an earlier reset link still working after a later one; a duplicate publish (same eventId) sent
 * twice; a poison pill blocking its group or others; a redriven message landing out of place.
 */
import { randomUUID } from "node:crypto";
import { DynamoDBPersistenceLayer } from "@aws-lambda-powertools/idempotency/dynamodb";
import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { SESClient, VerifyEmailIdentityCommand } from "@aws-sdk/client-ses";
import { SNSClient } from "@aws-sdk/client-sns";
import { ReceiveMessageCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { FAILURE_ATTRIBUTE } from "../../packages/courier/src/lib/consumer/index.ts";
import { oncePerEvent } from "../../packages/courier/src/lib/idempotency/once-per-event.ts";
import {
  IDEMPOTENCY_PARTITION_KEY,
  IDEMPOTENCY_TTL_ATTRIBUTE,
} from "../../packages/courier/src/lib/idempotency/table-schema.ts";
import { redriveSelectively } from "../../packages/courier/src/lib/redrive/selective.ts";
import { LocalEventSource } from "../../packages/courier/src/worker/event-source.ts";
import { type ResetEvent, sendResetEmail } from "../../src/app/password-reset/reset-email.ts";
import { verifyResetToken } from "../../src/app/password-reset/reset-token.ts";
import { readAuditTrail } from "../../src/app/security-audit/audit-table.ts";
import { recordSecurityEvent } from "../../src/app/security-audit/record-event.ts";
import { generateVerificationKey, verificationKey } from "../../src/app/signup/verification-code.ts";
import {
  ensureAuditTable,
  ensureIdempotencyTable,
  ensureLocalDynamo,
  type LocalDynamo,
} from "../../src/dev/dynamodb-local.ts";
import { localClientConfig } from "../../src/dev/local-aws-config.ts";
import { consumers, topics } from "../../src/topology.ts";
import { createConsumerHandler, PermanentError, RetryableError } from "../helpers/example-consumer.ts";
import { createPublisher } from "../helpers/example-publisher.ts";
import { consumerOf, topicOf } from "../helpers/example-stack.ts";
import { deployTestStack, type TestStack } from "./support/deploy-test-stack.ts";

const ACCOUNTS = 20;
const EVENTS_PER_ACCOUNT = 50;
const FAILURE_RATE = 0.1;
const DEADLINE_MS = 240_000;
const MAIL_FROM = "resets@courier.example.com";

let stack: TestStack;
let dynamo: LocalDynamo;
let endpoint: string;
const auditTable = `audit-${randomUUID().slice(0, 8)}`;
const runId = randomUUID().slice(0, 6);
const key = verificationKey(generateVerificationKey());
const sources: LocalEventSource[] = [];
let poisonFixed = false;
const injected = { audit: 0, email: 0 };
const emailMessageIds = new Map<string, Set<string>>();

/** Account i's email address: unique per run, so LocalStack's mailbox can be read per account. */
const emailOf = (account: number) => `reset-${runId}-${account}@example.com`;
const accountIdOf = (account: number) => `acct-${runId}-${account}`;
const POISON = { account: 3, index: 25 };

/** Deterministic fault injection: every tenth call of a consumer fails before its effect. */
/**
 * Enough injected failures to land in every account's group several times, and no more: each one
 * also costs the records behind it in its FIFO batch a receive, and on a loaded machine (fuller
 * batches) unbounded faults exhausted a healthy record's 10 receives by skips alone (a CI rehearsal
 * beside other work dead-lettered 4).
 */
const MAX_INJECTED = 60;

function faulty(which: keyof typeof injected) {
  let calls = 0;
  return () => {
    calls += 1;
    if (calls % Math.round(1 / FAILURE_RATE) === 0 && injected[which] < MAX_INJECTED) {
      injected[which] += 1;
      throw new RetryableError(`injected transient failure #${injected[which]}`);
    }
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
async function eventually(what: string, check: () => Promise<boolean>): Promise<void> {
  const deadline = Date.now() + DEADLINE_MS;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await sleep(500);
  }
}

interface SentEmail {
  readonly Destination: { readonly ToAddresses?: string[] };
  readonly Body: { readonly text_part?: string };
}
async function emailsTo(address: string, all?: SentEmail[]): Promise<SentEmail[]> {
  const messages =
    all ?? ((await (await fetch(`${endpoint}/_aws/ses`)).json()) as { messages: SentEmail[] }).messages;
  return messages.filter((m) => m.Destination.ToAddresses?.includes(address));
}
async function allEmails(): Promise<SentEmail[]> {
  return ((await (await fetch(`${endpoint}/_aws/ses`)).json()) as { messages: SentEmail[] }).messages;
}

/** Published per account, in publish order: eventId and requestedAt. */
const published = new Map<number, Array<{ eventId: string; requestedAt: string }>>();

beforeAll(async () => {
  endpoint = inject("localstackEndpoint");
  stack = await deployTestStack("ordered-work");
  dynamo = await ensureLocalDynamo();
  await ensureAuditTable(dynamo.endpoint, auditTable);
  const config = { ...localClientConfig(), endpoint };
  const sqs = new SQSClient(config);
  const ddb = new DynamoDBClient({ ...config, endpoint: dynamo.endpoint });
  const ses = new SESClient(config);
  await ses.send(new VerifyEmailIdentityCommand({ EmailAddress: MAIL_FROM }));
  const { topology } = stack;
  const fast = { baseSeconds: 1, maxSeconds: 2 }; // the topology's backoff shape, shortened for a test

  const auditFault = faulty("audit");
  const audit = createConsumerHandler({
    spec: { ...consumers["security-audit"], accepts: topics["password-resets"].accepts, backoff: fast },
    sqs,
    logger: new Logger({ logLevel: "SILENT" }),
    queueUrl: consumerOf(topology, "security-audit").queueUrl,
    dlqUrl: consumerOf(topology, "security-audit").dlqUrl,
    handle: async (message, ctx) => {
      if (message.data.userAgent === "poison" && !poisonFixed)
        throw new PermanentError("unreadable user agent");
      auditFault();
      await recordSecurityEvent({ dynamo: ddb, table: auditTable }, message, ctx.sequenceNumber);
    },
  });
  // As the deployed consumer does (lambdas/password-reset-email): one email per event even when a
  // delivery repeats. Delivery is at least once; on a loaded machine a batch that outlived its
  // timeout or a failed delete was redelivered, and without this the mailbox had 56 for one account.
  const idempotencyTable = `idempotency-${runId}`;
  await ensureIdempotencyTable(dynamo.endpoint, idempotencyTable);
  const sendOnce = oncePerEvent(
    (message: ResetEvent) =>
      sendResetEmail(
        {
          ses,
          config: { mailFrom: MAIL_FROM, resetUrlBase: "http://127.0.0.1:3000/reset-password" },
          key: async () => key,
        },
        message,
      ),
    {
      persistenceStore: new DynamoDBPersistenceLayer({
        tableName: idempotencyTable,
        keyAttr: IDEMPOTENCY_PARTITION_KEY,
        expiryAttr: IDEMPOTENCY_TTL_ATTRIBUTE,
        awsSdkV3Client: ddb,
      }),
      consumer: "password-reset-email",
    },
  );
  const emailFault = faulty("email");
  const email = createConsumerHandler({
    spec: { ...consumers["password-reset-email"], accepts: topics["password-resets"].accepts, backoff: fast },
    sqs,
    logger: new Logger({ logLevel: "SILENT" }),
    queueUrl: consumerOf(topology, "password-reset-email").queueUrl,
    dlqUrl: consumerOf(topology, "password-reset-email").dlqUrl,
    handle: async (message, ctx) => {
      // SQS message ids per event: a second one for an event is a second publish that got through.
      emailMessageIds.set(ctx.eventId, (emailMessageIds.get(ctx.eventId) ?? new Set()).add(ctx.messageId));
      emailFault();
      await sendOnce(message as ResetEvent);
    },
  });
  for (const [name, handler] of [
    ["security-audit", audit],
    ["password-reset-email", email],
  ] as const) {
    const spec = consumers[name];
    const source = new LocalEventSource({
      sqs,
      queueUrl: consumerOf(topology, name).queueUrl,
      queueArn: consumerOf(topology, name).queueArn,
      handler,
      functionName: name,
      batchSize: spec.batchSize,
      maxBatchingWindowSeconds: spec.maxBatchingWindowSeconds,
      timeoutSeconds: spec.timeoutSeconds,
      concurrency: spec.maxConcurrency,
      waitTimeSeconds: 1,
      onError: () => undefined,
    });
    await source.start();
    sources.push(source);
  }

  // Interleaved: request 0 of every account, then request 1 of every account, and so on.
  const publisher = createPublisher({
    sns: new SNSClient(config),
    topicArns: { "password-resets": topicOf(topology, "password-resets").arn },
    producer: "ordered-work-test",
  });
  const base = Date.now();
  const items: Array<{ account: number; data: Parameters<typeof publisher.publish<"password-resets">>[1] }> =
    [];
  for (let index = 0; index < EVENTS_PER_ACCOUNT; index++) {
    for (let account = 0; account < ACCOUNTS; account++) {
      const poison = account === POISON.account && index === POISON.index;
      items.push({
        account,
        data: {
          accountId: accountIdOf(account),
          email: emailOf(account),
          requestedAt: new Date(base + index * 1000 + account).toISOString(),
          ip: "203.0.113.7",
          userAgent: poison ? "poison" : `agent-${index}`,
        },
      });
    }
  }
  const results = await publisher.publishBatch(
    "password-resets",
    items.map((i) => i.data),
  );
  results.forEach((result, i) => {
    const item = items[i];
    if (!result.ok || !item) throw new Error(`publish ${i} failed: ${result.ok ? "" : result.error.message}`);
    const list = published.get(item.account) ?? [];
    list.push({ eventId: result.eventId, requestedAt: item.data.requestedAt });
    published.set(item.account, list);
  });
  // The same event again (as `courier publish --event-id` would): SNS FIFO drops it.
  const first = published.get(0)?.[0];
  if (!first) throw new Error("nothing published");
  await publisher.publish(
    "password-resets",
    {
      accountId: accountIdOf(0),
      email: emailOf(0),
      requestedAt: first.requestedAt,
      userAgent: "agent-0",
      ip: "203.0.113.7",
    },
    { eventId: first.eventId, occurredAt: first.requestedAt },
  );
}, 120_000);

afterAll(async () => {
  await Promise.all(sources.map((s) => s.stop()));
  await dynamo?.close();
  await stack?.cleanup();
}, 120_000);

const total = ACCOUNTS * EVENTS_PER_ACCOUNT;

describe("GIVEN 20 accounts × 50 resets published interleaved with transient failures in both consumers", () => {
  it(
    "WHEN the consumers drain the FIFO queues THEN every account's audit trail is in publish order, no gap, no duplicate (the poison pill aside)",
    async () => {
      const ddb = new DynamoDBClient({ ...localClientConfig(), endpoint: dynamo.endpoint });
      let trails: Awaited<ReturnType<typeof readAuditTrail>>[] = [];
      await eventually(`${total - 1} audit entries`, async () => {
        trails = await Promise.all(
          Array.from({ length: ACCOUNTS }, (_, a) => readAuditTrail(ddb, auditTable, accountIdOf(a))),
        );
        return trails.reduce((n, t) => n + t.length, 0) >= total - 1;
      });
      expect(injected.audit).toBeGreaterThan(50);
      for (let a = 0; a < ACCOUNTS; a++) {
        const expected = (published.get(a) ?? [])
          .filter((_, i) => !(a === POISON.account && i === POISON.index))
          .map((p) => p.eventId);
        expect(trails[a]?.map((t) => t.eventId)).toEqual(expected);
      }
    },
    DEADLINE_MS + 30_000,
  );

  // Mailbox order is asserted again since the local event source keeps one batch in flight per message
  // group and holds a group's later records until its failed ones are back (issue 12 item 3).
  it(
    "WHEN every email is sent THEN each account got 50 in publish order (the duplicate publish sent none): the last one carries the only working token",
    async () => {
      let mail: SentEmail[] = [];
      await eventually(`${total} reset emails`, async () => {
        mail = await allEmails();
        const ours = await Promise.all(
          Array.from({ length: ACCOUNTS }, (_, a) => emailsTo(emailOf(a), mail)),
        );
        return ours.reduce((n, m) => n + m.length, 0) >= total;
      });
      await sleep(3000); // a duplicate, had SNS let one through, would arrive within this
      mail = await allEmails();
      // What the at-least-once delivery did under this run's load (repeats the idempotency absorbed).
      process.stderr.write(
        `[ordered-work] password-reset-email source: ${JSON.stringify(sources[1]?.stats)}\n`,
      );
      expect(injected.email).toBeGreaterThan(50);
      // The idempotency would absorb a duplicate publish too, so SNS FIFO's own dedup is read here:
      // the event published twice reached the queue as one SQS message.
      const firstEventId = published.get(0)?.[0]?.eventId ?? "";
      expect(emailMessageIds.get(firstEventId)?.size).toBe(1);
      expect([...emailMessageIds.values()].filter((ids) => ids.size > 1)).toEqual([]);
      for (let a = 0; a < ACCOUNTS; a++) {
        const received = await emailsTo(emailOf(a), mail);
        expect(received).toHaveLength(EVENTS_PER_ACCOUNT);
        const tokens = received.map((m) => /token=([^\s&]+)/.exec(m.Body.text_part ?? "")?.[1] ?? "");
        const newest = published.get(a)?.at(-1)?.requestedAt ?? "";
        const verdicts = tokens.map(
          (token) =>
            verifyResetToken(key, {
              accountId: accountIdOf(a),
              email: emailOf(a),
              token,
              newestRequestedAt: newest,
            }).status,
        );
        expect(verdicts.filter((v) => v === "valid")).toHaveLength(1);
        expect(verdicts.filter((v) => v === "superseded")).toHaveLength(EVENTS_PER_ACCOUNT - 1);
        // Arrival order is the mailbox's order: the last email is the newest request, the one that works.
        expect(verdicts.at(-1)).toBe("valid");
        expect(verdicts.slice(0, -1).every((v) => v === "superseded")).toBe(true);
        // And every email in publish order: the i-th email's token is the one minted for the i-th request.
        const outOfPlace = tokens.flatMap((token, i) => {
          const requestedAt = published.get(a)?.[i]?.requestedAt ?? "";
          const { status } = verifyResetToken(key, {
            accountId: accountIdOf(a),
            email: emailOf(a),
            token,
            newestRequestedAt: requestedAt,
          });
          return status === "valid" ? [] : [i];
        });
        expect(outOfPlace, `account ${a}: emails not in publish order at positions`).toEqual([]);
      }
    },
    DEADLINE_MS + 30_000,
  );

  it(
    "WHEN the poison pill is read from the DLQ THEN it carries its group and reason; once fixed and redriven it takes its place after its predecessors",
    async () => {
      const config = { ...localClientConfig(), endpoint };
      const sqs = new SQSClient(config);
      const { dlqUrl, queueUrl } = consumerOf(stack.topology, "security-audit");
      const peek = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlqUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 2,
          VisibilityTimeout: 0,
          MessageSystemAttributeNames: ["All"],
          MessageAttributeNames: ["All"],
        }),
      );
      const reasons = (peek.Messages ?? []).map(
        (m) => m.MessageAttributes?.[FAILURE_ATTRIBUTE]?.StringValue ?? "none",
      );
      expect(reasons).toHaveLength(1);
      const dead = peek.Messages?.[0];
      expect(dead?.Attributes?.MessageGroupId).toBe(accountIdOf(POISON.account));
      expect(JSON.parse(dead?.MessageAttributes?.[FAILURE_ATTRIBUTE]?.StringValue ?? "{}")).toMatchObject({
        errorClass: "PermanentError",
        kind: "permanent",
        message: "unreadable user agent",
      });

      poisonFixed = true;
      const summary = await redriveSelectively({
        sqs,
        dlqUrl,
        queueUrl,
        waitTimeSeconds: 1,
        emptyReceivesToStop: 2,
      });
      expect(summary.moved).toBe(1);
      const ddb = new DynamoDBClient({ ...localClientConfig(), endpoint: dynamo.endpoint });
      let trail: Awaited<ReturnType<typeof readAuditTrail>> = [];
      await eventually("the redriven entry", async () => {
        trail = await readAuditTrail(ddb, auditTable, accountIdOf(POISON.account));
        return trail.length === EVENTS_PER_ACCOUNT;
      });
      // Keyed by the SNS sequence number it was published with: back in its original place.
      expect(trail.map((t) => t.eventId)).toEqual(published.get(POISON.account)?.map((p) => p.eventId));
    },
    DEADLINE_MS + 30_000,
  );
});
