/**
 * `courier dlq peek` and `courier redrive` as an operator runs them: the CLI in a child process
 * against a private copy of the deployed stack, reading queue addresses from its outputs.
 * The DLQ is filled directly with messages shaped as the consumer runtime dead-letters them (the
 * runtime's own path to the DLQ is covered in redrive.test.ts).
 * Failure modes covered: wrong queue from the stack outputs, --json not parseable, a dry run that
 * moves, filters ignored on the command line, errors that do not name what was wrong.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  type DeployedConsumer,
  deployedConsumer,
} from "../../packages/courier/src/deployment/deployed-topology.ts";
import { FAILURE_ATTRIBUTE } from "../../packages/courier/src/lib/consumer/index.ts";
import { depth, drainQueue, imageUploads, newAccounts, sendAll, visibleDepth } from "./redrive-support.ts";
import { deployTestStack, type TestStack } from "./support/deploy-test-stack.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
let stack: TestStack | undefined;
let consumer: DeployedConsumer;

interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function courier(...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      // --local: LocalStack at AWS_ENDPOINT_URL with its dummy credentials (without it, AWS).
      ["bin/courier.mjs", ...args, "--local"],
      { cwd: repoRoot, env: { ...process.env, AWS_ENDPOINT_URL: inject("localstackEndpoint") } },
      (error, stdout, stderr) => {
        resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

const failure = (errorClass: string) => ({
  DataType: "String",
  StringValue: JSON.stringify({
    errorClass,
    message: "template verification-email/en-US is missing",
    consumer: "verification-email",
    receiveCount: 1,
    failedAt: new Date().toISOString(),
    kind: "permanent",
    messageId: randomUUID(),
  }),
});

/** Dead-letters `count` sign-ups and `images` image uploads into the consumer's DLQ. */
async function fillDlq(count: number, images = 0): Promise<void> {
  const messages = [...newAccounts(count), ...imageUploads(images)].map((m) => ({
    ...m,
    attributes: { ...m.attributes, [FAILURE_ATTRIBUTE]: failure("TemplateMissingError") },
  }));
  await sendAll(consumer.dlqUrl, messages);
}

async function emptyBoth(): Promise<void> {
  await drainQueue(consumer.queueUrl);
  await drainQueue(consumer.dlqUrl);
}

beforeAll(async () => {
  stack = await deployTestStack("redrive-cli");
  consumer = deployedConsumer(stack.topology, "verification-email");
});

afterAll(async () => {
  await stack?.cleanup();
});

describe("courier dlq peek", () => {
  it("GIVEN dead-lettered messages in the deployed DLQ WHEN peeking with --json THEN each is listed with its reason and the DLQ is unchanged", async () => {
    await emptyBoth();
    await fillDlq(3);

    const run = await courier(
      "dlq",
      "peek",
      "verification-email",
      "--stack",
      stack?.topology.stackName ?? "",
      "--json",
    );

    expect(run.code).toBe(0);
    const output = JSON.parse(run.stdout);
    expect(output.dlqUrl).toBe(consumer.dlqUrl);
    expect(output.messages).toHaveLength(3);
    expect(output.messages[0]).toMatchObject({ type: "NewAccount", errorClass: "TemplateMissingError" });
    expect(output.messages[0].eventId).toMatch(/^[0-9a-f-]{36}$/);
    expect(await visibleDepth(consumer.dlqUrl)).toBe(3);
  });

  it("GIVEN a consumer name the deployed stack lacks WHEN peeking THEN it exits non-zero with one line listing the stack's consumers", async () => {
    const run = await courier("dlq", "peek", "verification-mail", "--stack", stack?.topology.stackName ?? "");

    expect(run.code).not.toBe(0);
    const known = Object.keys(stack?.topology.consumers ?? {}).join(", ");
    expect(run.stderr.trim().split("\n").at(-1)).toBe(
      `courier: unknown consumer "verification-mail"; stack "${stack?.topology.stackName}" has consumers: ${known}`,
    );
  });
});

describe("courier redrive", () => {
  it("GIVEN a dead-lettered batch WHEN redriving with --dry-run THEN it reports the count and moves nothing", async () => {
    await emptyBoth();
    await fillDlq(4);

    const run = await courier(
      "redrive",
      "verification-email",
      "--dry-run",
      "--json",
      "--stack",
      stack?.topology.stackName ?? "",
    );

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ consumer: "verification-email", dryRun: true, moved: 4 });
    expect(await depth(consumer.queueUrl)).toBe(0);
    expect(await visibleDepth(consumer.dlqUrl)).toBe(4);
  });

  it("GIVEN two types in the DLQ WHEN redriving with --type THEN only that type reaches the consumer's queue", async () => {
    await emptyBoth();
    await fillDlq(5, 3);

    const run = await courier(
      "redrive",
      "verification-email",
      "--type",
      "ImageUploaded",
      "--json",
      "--stack",
      stack?.topology.stackName ?? "",
    );

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ moved: 3, skipped: 5, quarantined: 0, failed: 0 });
    const moved = await drainQueue(consumer.queueUrl);
    expect(moved.map((m) => m.MessageAttributes?.type?.StringValue)).toEqual(Array(3).fill("ImageUploaded"));
  });

  it("GIVEN a dead-lettered batch WHEN redriving with --bulk THEN the move task empties the DLQ into the queue", async () => {
    await emptyBoth();
    await fillDlq(6);

    const run = await courier(
      "redrive",
      "verification-email",
      "--bulk",
      "--json",
      "--stack",
      stack?.topology.stackName ?? "",
    );

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ mode: "bulk", moved: 6, status: "COMPLETED" });
    expect(await depth(consumer.queueUrl)).toBe(6);
    expect(await depth(consumer.dlqUrl)).toBe(0);
  });

  it("GIVEN --older-than with a bad duration WHEN redriving THEN it exits non-zero naming the option, before touching any queue", async () => {
    const run = await courier(
      "redrive",
      "verification-email",
      "--older-than",
      "2 weeks",
      "--stack",
      "no-such-stack",
    );

    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain('--older-than: "2 weeks" is not a duration');
  });
});
