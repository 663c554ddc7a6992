/**
 * CloudFormation on LocalStack (or wherever the endpoint points): create-or-update a stack from a
 * template and wait with an error that names the failed resources, read a deployed stack's
 * topology back from its outputs, delete a stack. SDK only, so the CLI's status command can read a
 * topology without loading aws-cdk-lib.
 */
import { setTimeout as sleep } from "node:timers/promises";
import {
  CloudFormationClient,
  CreateStackCommand,
  DeleteStackCommand,
  type Stack as DescribedStack,
  DescribeStackEventsCommand,
  type StackEvent,
  UpdateStackCommand,
} from "@aws-sdk/client-cloudformation";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import {
  type DeployedTopology,
  describeStack,
  outputsOf,
  readDeployedTopology as readDeployedStackTopology,
  StackNotFoundError,
} from "@courier-queue/courier/worker";
import { localClientConfig } from "./local-aws-config.ts";
import type { CfnTemplate } from "./local-template.ts";

export type DeployAction = "created" | "updated" | "unchanged";

export class LocalDeployError extends Error {
  override readonly name = "LocalDeployError";
}

export { StackNotFoundError };

/** CloudFormation's TemplateBody limit, which LocalStack enforces too; larger templates go through S3. */
const TEMPLATE_BODY_LIMIT = 51_200;
const TEMPLATE_BUCKET = "courier-local-cloudformation-templates";
const DELETE_FAILED_GRACE_MS = 15_000;
const CAPABILITIES = ["CAPABILITY_IAM", "CAPABILITY_NAMED_IAM", "CAPABILITY_AUTO_EXPAND"] as const;

function clientConfig(endpoint?: string) {
  return localClientConfig(endpoint ? { ...process.env, AWS_ENDPOINT_URL: endpoint } : process.env);
}

const inProgress = (status: string | undefined) => status?.endsWith("_IN_PROGRESS") ?? false;

async function failureEvents(
  client: CloudFormationClient,
  stackName: string,
  since: Date,
): Promise<string[]> {
  const result = await client
    .send(new DescribeStackEventsCommand({ StackName: stackName }))
    .catch(() => undefined);
  const events: StackEvent[] = result?.StackEvents ?? [];
  return events
    .filter((e) => e.ResourceStatus?.endsWith("_FAILED") && (!e.Timestamp || e.Timestamp >= since))
    .filter((e) => e.LogicalResourceId !== stackName)
    .map((e) => `${e.LogicalResourceId} (${e.ResourceType}): ${e.ResourceStatusReason ?? e.ResourceStatus}`);
}

async function waitForStack(
  client: CloudFormationClient,
  stackName: string,
  since: Date,
  timeoutMs: number,
): Promise<DescribedStack> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stack = await describeStack(client, stackName);
    if (!stack) throw new LocalDeployError(`stack "${stackName}" disappeared while deploying`);
    const status = stack.StackStatus;
    if (!inProgress(status)) {
      if (status === "CREATE_COMPLETE" || status === "UPDATE_COMPLETE") return stack;
      const failed = await failureEvents(client, stackName, since);
      throw new LocalDeployError(
        `deploying "${stackName}" to LocalStack ended in ${status}` +
          (stack.StackStatusReason ? ` (${stack.StackStatusReason})` : "") +
          (failed.length > 0 ? `; failed resources: ${failed.join("; ")}` : ""),
      );
    }
    if (Date.now() > deadline) {
      throw new LocalDeployError(`deploying "${stackName}" still ${status} after ${timeoutMs / 1000} s`);
    }
    await sleep(1_000);
  }
}

/** TemplateBody when it fits, else a TemplateURL into a bucket this module owns. */
async function templateSource(
  body: string,
  stackName: string,
  endpoint: string | undefined,
): Promise<{ TemplateBody: string } | { TemplateURL: string }> {
  if (Buffer.byteLength(body) <= TEMPLATE_BODY_LIMIT) return { TemplateBody: body };
  const config = clientConfig(endpoint);
  const s3 = new S3Client(config);
  await s3.send(new CreateBucketCommand({ Bucket: TEMPLATE_BUCKET })).catch((error: Error) => {
    if (!/BucketAlreadyOwnedByYou|BucketAlreadyExists/.test(error.name)) throw error;
  });
  const key = `${stackName}/${Date.now()}.json`;
  await s3.send(new PutObjectCommand({ Bucket: TEMPLATE_BUCKET, Key: key, Body: body }));
  return { TemplateURL: `${config.endpoint}/${TEMPLATE_BUCKET}/${key}` };
}

/** Creates or updates a stack from a template and waits; returns the outputs and what happened. */
export async function deployTemplate(
  stackName: string,
  template: CfnTemplate,
  options: { endpoint?: string; timeoutMs?: number } = {},
): Promise<{ action: DeployAction; outputs: Record<string, string> }> {
  const client = new CloudFormationClient(clientConfig(options.endpoint));
  const timeoutMs = options.timeoutMs ?? 300_000;
  const source = await templateSource(JSON.stringify(template), stackName, options.endpoint);
  let existing = await describeStack(client, stackName);
  if (existing && inProgress(existing.StackStatus)) {
    existing = await waitForStack(client, stackName, new Date(), timeoutMs).catch(() =>
      describeStack(client, stackName),
    );
  }
  // A stack whose first create failed cannot be updated, only deleted and created again.
  if (
    existing &&
    ["ROLLBACK_COMPLETE", "CREATE_FAILED", "ROLLBACK_FAILED"].includes(existing.StackStatus ?? "")
  ) {
    await destroyStack(client, stackName, timeoutMs);
    existing = undefined;
  }
  const since = new Date(Date.now() - 1_000);
  if (!existing || existing.StackStatus === "DELETE_COMPLETE") {
    await client.send(
      new CreateStackCommand({ StackName: stackName, ...source, Capabilities: [...CAPABILITIES] }),
    );
    const stack = await waitForStack(client, stackName, since, timeoutMs);
    return { action: "created", outputs: outputsOf(stack) };
  }
  try {
    await client.send(
      new UpdateStackCommand({ StackName: stackName, ...source, Capabilities: [...CAPABILITIES] }),
    );
  } catch (error) {
    if (error instanceof Error && /No updates are to be performed/.test(error.message)) {
      return { action: "unchanged", outputs: outputsOf(existing) };
    }
    throw error;
  }
  const stack = await waitForStack(client, stackName, since, timeoutMs);
  return { action: "updated", outputs: outputsOf(stack) };
}

/** The topology of a stack already deployed on LocalStack (or wherever the endpoint points). */
export async function readDeployedTopology(
  stackName: string,
  options: { endpoint?: string } = {},
): Promise<DeployedTopology> {
  const config = clientConfig(options.endpoint);
  return readDeployedStackTopology(stackName, config, config.endpoint).catch((error: unknown) => {
    throw error instanceof StackNotFoundError
      ? new StackNotFoundError(stackName, config.endpoint, 'run "courier local up" first')
      : error;
  });
}

async function destroyStack(
  client: CloudFormationClient,
  stackName: string,
  timeoutMs: number,
): Promise<boolean> {
  const existing = await describeStack(client, stackName);
  if (!existing || existing.StackStatus === "DELETE_COMPLETE") return false;
  await client.send(new DeleteStackCommand({ StackName: stackName }));
  const deadline = Date.now() + timeoutMs;
  let failedSince: number | undefined;
  for (;;) {
    const stack = await describeStack(client, stackName);
    if (!stack || stack.StackStatus === "DELETE_COMPLETE") return true;
    // LocalStack's engine sets DELETE_FAILED as soon as one resource fails to delete (one a rollback
    // already removed, say), then carries on and ends in DELETE_COMPLETE: only a lasting one counts.
    if (stack.StackStatus === "DELETE_FAILED") failedSince ??= Date.now();
    else failedSince = undefined;
    if (
      !inProgress(stack.StackStatus) &&
      (failedSince === undefined || Date.now() - failedSince > DELETE_FAILED_GRACE_MS)
    ) {
      const failed = await failureEvents(client, stackName, new Date(0));
      throw new LocalDeployError(
        `deleting stack "${stackName}" ended in ${stack.StackStatus}` +
          (failed.length > 0 ? `; failed resources: ${failed.join("; ")}` : ""),
      );
    }
    if (Date.now() > deadline) throw new LocalDeployError(`deleting stack "${stackName}" timed out`);
    await sleep(1_000);
  }
}

/** Deletes a stack deployed by `deployToLocalStack`; false when there was none. */
export async function deleteStackOnLocalStack(
  stackName: string,
  options: { endpoint?: string; timeoutMs?: number } = {},
): Promise<boolean> {
  const client = new CloudFormationClient(clientConfig(options.endpoint));
  return destroyStack(client, stackName, options.timeoutMs ?? 300_000);
}
