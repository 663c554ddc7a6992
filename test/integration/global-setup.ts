/**
 * The integration suite's global setup: makes sure a LocalStack answers (AWS_ENDPOINT_URL, one
 * already running, or one started from the project's venv) through the same harness as
 * `courier local up`, and hands its endpoint to the tests. Each test file deploys its own stack copy
 * (support/deploy-test-stack.ts). Teardown stops LocalStack only if this setup started it.
 */
import type { TestProject } from "vitest/node";
import { ensureLocalStack, stopLocalStack } from "../../src/dev/localstack.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** The LocalStack endpoint the suite runs against. */
    localstackEndpoint: string;
  }
}

const log = (line: string) => process.stderr.write(`[localstack] ${line}\n`);

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const handle = await ensureLocalStack({ log });
  log(
    handle.source === "started"
      ? `started LocalStack ${handle.version} at ${handle.endpoint} in ${handle.startSeconds} s`
      : `using LocalStack ${handle.version} at ${handle.endpoint} (${handle.source === "environment" ? "AWS_ENDPOINT_URL" : "already running"})`,
  );
  // Test workers start after this and inherit the environment, so localClientConfig() finds it too.
  process.env.AWS_ENDPOINT_URL = handle.endpoint;
  project.provide("localstackEndpoint", handle.endpoint);
  return async () => {
    if (handle.source !== "started") return;
    const result = await stopLocalStack({ log });
    log(result.reason);
  };
}
