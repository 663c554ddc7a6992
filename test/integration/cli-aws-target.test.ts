/**
 * Every operator command reaches AWS through the standard configuration chain. A profile in a
 * private AWS config file names an endpoint (a counting proxy in front of LocalStack) and its
 * credentials; each command runs with `--profile` and no AWS_ENDPOINT_URL, and the proxy must have
 * received its calls.
 * Failure modes covered: a command that ignores --profile or the profile's endpoint_url (its calls
 * would not reach the proxy), a command that silently falls back to LocalStack's default address,
 * and a machine with no credentials or region that hangs instead of answering with one line.
 */
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type CountingProxy, startCountingProxy } from "../helpers/counting-proxy.ts";
import { deployTestStack, type TestStack } from "./support/deploy-test-stack.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const PROFILE = "courier-target-test";
let stack: TestStack | undefined;
let proxy: CountingProxy;
let profileEnv: NodeJS.ProcessEnv;

/** The parent's environment without anything that names an AWS target. */
function withoutAwsSettings(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  return Object.fromEntries(Object.entries(env).filter(([key]) => !key.startsWith("AWS_")));
}

interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function courier(args: string[], env: NodeJS.ProcessEnv): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["bin/courier.mjs", ...args],
      { cwd: repoRoot, env },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

beforeAll(async () => {
  stack = await deployTestStack("cli-target");
  proxy = await startCountingProxy(inject("localstackEndpoint"));
  const dir = mkdtempSync(join(tmpdir(), "courier-aws-config-"));
  writeFileSync(
    join(dir, "config"),
    `[profile ${PROFILE}]\nregion = us-east-1\nendpoint_url = ${proxy.url}\n`,
  );
  writeFileSync(
    join(dir, "credentials"),
    `[${PROFILE}]\naws_access_key_id = test\naws_secret_access_key = test\n`,
  );
  profileEnv = {
    ...withoutAwsSettings(process.env),
    AWS_CONFIG_FILE: join(dir, "config"),
    AWS_SHARED_CREDENTIALS_FILE: join(dir, "credentials"),
  };
});

afterAll(async () => {
  await proxy?.close();
  await stack?.cleanup();
});

describe("every command through --profile", () => {
  const stackArgs = () => ["--profile", PROFILE, "--stack", stack?.topology.stackName ?? "", "--json"];

  it("GIVEN a profile whose endpoint_url is the proxy WHEN `courier status` runs THEN the proxy received its CloudFormation and SQS calls", async () => {
    proxy.calls.length = 0;
    const run = await courier(["status", ...stackArgs()], profileEnv);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    // One row per consumer the deployed topology has: the CLI read every queue through the proxy.
    expect(JSON.parse(run.stdout).consumers).toHaveLength(
      Object.keys(stack?.topology.consumers ?? {}).length,
    );
    expect(proxy.calls).toContain("DescribeStacks");
    expect(proxy.calls).toContain("AmazonSQS.GetQueueAttributes");
  });

  it("GIVEN the profile WHEN `courier publish` runs THEN the message is published through the proxy", async () => {
    proxy.calls.length = 0;
    const data = JSON.stringify({
      accountId: "6f1c2d3e-4b5a-4c6d-8e7f-8091a2b3c4d5",
      email: "target@example.com",
      displayName: "Target",
      locale: "en-US",
      createdAt: new Date().toISOString(),
    });
    // The example's contract sets filter attributes (hasPhone, purpose): publish with its topology.
    const run = await courier(
      ["publish", "account-signups", data, "--topology", "src/topology.ts", ...stackArgs()],
      profileEnv,
    );
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).messageId).toBeTruthy();
    expect(proxy.calls).toContain("Publish");
  });

  it("GIVEN the profile WHEN `courier dlq peek` and `courier redrive --dry-run` run THEN both go through the proxy", async () => {
    proxy.calls.length = 0;
    const peek = await courier(["dlq", "peek", "team-notify", ...stackArgs()], profileEnv);
    expect(peek.code).toBe(0);
    const redrive = await courier(["redrive", "team-notify", "--dry-run", ...stackArgs()], profileEnv);
    expect(redrive.code).toBe(0);
    expect(proxy.calls.filter((c) => c === "DescribeStacks")).toHaveLength(2);
    expect(proxy.calls.some((c) => c.startsWith("AmazonSQS."))).toBe(true);
  });

  it("GIVEN the profile WHEN `courier work` starts THEN its worker polls the queue through the proxy", async () => {
    proxy.calls.length = 0;
    const child: ChildProcess = spawn(
      process.execPath,
      ["bin/courier.mjs", "work", "team-notify", "--interval", "1", ...stackArgs()],
      { cwd: repoRoot, env: { ...profileEnv, TEAM_WEBHOOK_URL: "http://127.0.0.1:9/unused" } },
    );
    let stdout = "";
    child.stdout?.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    const exited = new Promise<number>((resolve) => child.on("exit", (code) => resolve(code ?? 1)));
    await expect.poll(() => proxy.calls.includes("AmazonSQS.ReceiveMessage"), { timeout: 60_000 }).toBe(true);
    child.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(stdout).toContain('"event":"started"');
  });
});

describe("no target configured", () => {
  it("GIVEN no credentials and no region WHEN `courier status` runs THEN it exits with one line naming the missing region", async () => {
    const empty = mkdtempSync(join(tmpdir(), "courier-no-aws-"));
    const run = await courier(["status", "--stack", "acme-orders"], {
      ...withoutAwsSettings(process.env),
      HOME: empty,
      AWS_CONFIG_FILE: join(empty, "none"),
      AWS_SHARED_CREDENTIALS_FILE: join(empty, "none"),
    });
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split("\n")).toEqual([
      "courier: no AWS region: pass --region, set AWS_REGION, or set region in the profile",
    ]);
  });

  it("GIVEN a region but no credentials WHEN `courier status` runs THEN it exits with one line naming the missing credentials", async () => {
    const empty = mkdtempSync(join(tmpdir(), "courier-no-aws-"));
    const run = await courier(["status", "--stack", "acme-orders", "--region", "eu-west-1"], {
      ...withoutAwsSettings(process.env),
      HOME: empty,
      AWS_CONFIG_FILE: join(empty, "none"),
      AWS_SHARED_CREDENTIALS_FILE: join(empty, "none"),
      // Not on EC2 here; the SDK would otherwise spend a few seconds asking instance metadata.
      AWS_EC2_METADATA_DISABLED: "true",
    });
    expect(run.code).toBe(1);
    const lines = run.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^courier: no AWS credentials .*--profile.*--local/);
  });
});
