/**
 * The integration suite's global setup: makes sure a LocalStack answers (AWS_ENDPOINT_URL, one
 * already running, or one started from the project's venv) through the same harness as
 * `courier local up`, and hands its endpoint to the tests. Each test file deploys its own stack copy
 * (support/deploy-test-stack.ts). Teardown stops LocalStack only if this setup started it.
 */
import type { TestProject } from "vitest/node";
import type { LocalDeployment } from "../../src/dev/deploy.ts";
import type { CfnTemplate } from "../../src/dev/local-template.ts";
import { ensureLocalStack, stopLocalStack } from "../../src/dev/localstack.ts";
import { PREDEPLOYED_PREFIXES } from "./support/stack-copies.ts";

declare module "vitest" {
  export interface ProvidedContext {
    /** The LocalStack endpoint the suite runs against. */
    localstackEndpoint: string;
    /** True when this run started LocalStack (and stops it after): stack copies need no deleting. */
    localstackEphemeral: boolean;
    /** Stack copies deployed by the setup, with their templates, by the prefix a test file asks for. */
    stackCopies: Record<string, { deployment: LocalDeployment; template: CfnTemplate }>;
  }
}

const log = (line: string) => process.stderr.write(`[localstack] ${line}\n`);

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const handle = await ensureLocalStack({
    log,
    // LocalStack's SQS publishes a CloudWatch metric for each operation and every queue's depth each
    // minute, and its CloudWatch evaluates every alarm of every stack copy against that growing store:
    // in a whole-suite run that was ~40 % of the machine's CPU (py-spy: get_metric_data_stat,
    // add_metric_data), and it grew as the run went on. No integration test reads those metrics
    // (courier status and the console read queue depth from LocalStack's /_aws/sqs/messages).
    env: { ...process.env, SQS_DISABLE_CLOUDWATCH_METRICS: "1" },
  });
  log(
    handle.source === "started"
      ? `started LocalStack ${handle.version} at ${handle.endpoint} in ${handle.startSeconds} s`
      : `using LocalStack ${handle.version} at ${handle.endpoint} (${handle.source === "environment" ? "AWS_ENDPOINT_URL" : "already running"})`,
  );
  // Test workers start after this and inherit the environment, so localClientConfig() finds it too.
  process.env.AWS_ENDPOINT_URL = handle.endpoint;
  project.provide("localstackEndpoint", handle.endpoint);
  project.provide("localstackEphemeral", handle.source === "started");

  // Loaded after LocalStack is up: aws-cdk-lib takes seconds to import.
  const { deployToLocalStack, synthesizeTemplate, buildCourierStack } = await import(
    "../../src/dev/deploy.ts"
  );
  const { testStackName } = await import("./support/deploy-test-stack-name.ts");
  const started = performance.now();
  // One aws-cdk-lib load for the run; a courier template carries its stack's name (queue names are
  // derived from it), so each copy is synthesized under its own name, then all deploy at once.
  const planned = PREDEPLOYED_PREFIXES.map((prefix) => {
    const stackName = testStackName(prefix);
    return { prefix, stackName, template: synthesizeTemplate(stackName, buildCourierStack) };
  });
  const copies = await Promise.all(
    planned.map(async ({ prefix, stackName, template }) => {
      const deployment = await deployToLocalStack({ stackName, endpoint: handle.endpoint, template });
      return [prefix, { deployment, template }] as const;
    }),
  );
  project.provide("stackCopies", Object.fromEntries(copies));
  log(
    `synthesized ${copies.length} stack copies in one process and deployed them concurrently in ${Math.round((performance.now() - started) / 1000)} s`,
  );
  return async () => {
    if (handle.source !== "started") return;
    const result = await stopLocalStack({ log });
    log(result.reason);
  };
}
