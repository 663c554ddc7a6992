/**
 * `courier trace` as an operator runs it against a deployed stack (AWS mocked: CloudFormation for
 * the manifest, X-Ray, Logs Insights, Lambda). Failure modes covered: consumers of the stack with
 * no recorded attempt left out of the answer; the wrong region or stack reached; a bad id reaching
 * X-Ray instead of a one-line refusal; nothing found reported as anything but nothing.
 */
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import {
  CloudWatchLogsClient,
  GetQueryResultsCommand,
  StartQueryCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import { GetFunctionConfigurationCommand, LambdaClient } from "@aws-sdk/client-lambda";
import { BatchGetTracesCommand, GetTraceSummariesCommand, XRayClient } from "@aws-sdk/client-xray";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { courierInProcess } from "../helpers/cli-in-process.ts";
import { asStackOutputs, manifestOutputs, REGION } from "./manifest-fixtures.ts";

const EVENT = "5f0c1a52-8d0e-4a8c-9a53-2b1f5c9d7e11";
const cfn = mockClient(CloudFormationClient);
const xray = mockClient(XRayClient);
const logs = mockClient(CloudWatchLogsClient);
const lambda = mockClient(LambdaClient);

const courier = courierInProcess;

beforeEach(() => {
  vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIAUNITTEST");
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", "unit-test-secret");
  for (const name of ["AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "COURIER_STACK"])
    vi.stubEnv(name, undefined);
  for (const mock of [cfn, xray, logs, lambda]) mock.reset();
  const outputs = manifestOutputs("acme-orders", {
    topics: [{ name: "orders", current: { type: "OrderPlaced", version: 1 } }],
    consumers: [
      { name: "invoice", topic: "orders", functionName: "acme-invoice" },
      { name: "ledger", topic: "orders", functionName: "acme-ledger" },
    ],
  });
  cfn.on(DescribeStacksCommand).resolves({
    Stacks: [
      {
        StackName: "acme-orders",
        StackStatus: "CREATE_COMPLETE",
        CreationTime: new Date(),
        Outputs: asStackOutputs(outputs),
      },
    ],
  });
  xray
    .on(GetTraceSummariesCommand)
    .resolves({ TraceSummaries: [{ Id: "1-4bf92f35-77b34da6a3ce929d0e0e4736" }] });
  xray.on(BatchGetTracesCommand).resolves({
    Traces: [
      {
        Id: "1-4bf92f35-77b34da6a3ce929d0e0e4736",
        Segments: [
          {
            Id: "a1",
            Document: JSON.stringify({
              id: "a1a1a1a1a1a1a1a1",
              trace_id: "1-4bf92f35-77b34da6a3ce929d0e0e4736",
              name: "acme-invoice",
              start_time: 1765044001,
              end_time: 1765044001.02,
              annotations: {
                courier_event_id: EVENT,
                courier_consumer: "invoice",
                courier_outcome: "processed",
              },
              metadata: {
                default: { "messaging.operation.type": "process", "messaging.destination.name": "invoice" },
              },
            }),
          },
        ],
      },
    ],
  });
  lambda.on(GetFunctionConfigurationCommand).resolves({});
  logs.on(StartQueryCommand).resolves({ queryId: "q" });
  logs.on(GetQueryResultsCommand).resolves({ status: "Complete", results: [] });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("GIVEN a team's stack with consumers invoice and ledger of topic orders", () => {
  it("WHEN a message is traced by eventId THEN invoice's attempt is told and ledger is named as missing, from X-Ray in the stack's region", async () => {
    const run = await courier("trace", EVENT, "--stack", "acme-orders", "--region", REGION, "--json");
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    const answer = JSON.parse(run.stdout) as {
      stack: string;
      matchedBy: string;
      messages: Array<{ deliveries: Array<{ consumer: string; state: string }> }>;
    };
    expect(answer.stack).toBe("acme-orders");
    expect(answer.matchedBy).toBe("eventId");
    expect(answer.messages[0]?.deliveries).toEqual([
      expect.objectContaining({ consumer: "invoice", state: "processed" }),
      expect.objectContaining({ consumer: "ledger", state: "no attempt recorded" }),
    ]);
    expect(await xray.call(0).thisValue.config.region()).toBe(REGION);
    // Logs Insights searched the stack's own functions (and its redrive function), nothing else.
    expect(logs.commandCalls(StartQueryCommand)[0]?.args[0].input.logGroupNames?.sort()).toEqual([
      "/aws/lambda/acme-invoice",
      "/aws/lambda/acme-ledger",
      "/aws/lambda/acme-orders-redrive",
    ]);
  });

  it("WHEN X-Ray has nothing for the id THEN it says so plainly and exits 0", async () => {
    xray.on(GetTraceSummariesCommand).resolves({ TraceSummaries: [] });
    const run = await courier("trace", EVENT, "--stack", "acme-orders", "--region", REGION);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(`No span names "${EVENT}" as an eventId or a correlation id in X-Ray`),
    );
    expect(xray.commandCalls(BatchGetTracesCommand)).toHaveLength(0);
  });

  it("WHEN the id holds a quote THEN it is refused in one line with exit 2 and X-Ray is never asked", async () => {
    const run = await courier("trace", 'x" OR 1=1', "--stack", "acme-orders", "--region", REGION);
    expect(run.code).toBe(2);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toMatch(/is not an eventId or a correlation id/);
    expect(xray.commandCalls(GetTraceSummariesCommand)).toHaveLength(0);
  });
});
