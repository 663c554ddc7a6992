/**
 * The operator CLI on a stack courier never saw: a team's "orders" topic with consumers "invoice"
 * and "ledger", known only from the manifest its construct left in the stack's outputs (hand-built
 * here, AWS mocked). Failure modes covered: a command that still knows courier's example consumers,
 * names from the wrong stack when two stand side by side, maxReceiveCount or maxRedrives that do not
 * come from the stack, a publish that needs a contract the stack does not carry, or one that skips
 * the filter attributes a subscription matches on, and a stack guessed when none was named.
 */
import { fileURLToPath } from "node:url";
import { CloudFormationClient, DescribeStacksCommand } from "@aws-sdk/client-cloudformation";
import { CloudWatchClient, GetMetricDataCommand } from "@aws-sdk/client-cloudwatch";
import { PublishCommand, SNSClient } from "@aws-sdk/client-sns";
import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  ListQueueTagsCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { mockClient } from "aws-sdk-client-mock";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { NOT_VALIDATED_NOTE } from "../../packages/courier/src/cli/commands/publish.ts";
import { courierInProcess } from "../helpers/cli-in-process.ts";
import {
  asStackOutputs,
  manifestOutputs,
  ordersStackOutputs,
  queueUrl,
  REGION,
  topicArn,
} from "./manifest-fixtures.ts";
import { dlqMessage } from "./redrive-fixtures.ts";

const TOPOLOGY_MODULE = fileURLToPath(new URL("./fixtures/orders-topology.ts", import.meta.url));

const cfnMock = mockClient(CloudFormationClient);
const sqsMock = mockClient(SQSClient);
const snsMock = mockClient(SNSClient);
const cloudwatchMock = mockClient(CloudWatchClient);

/** The stacks "deployed" in the mocked account, by name: their outputs. */
let stacks: Record<string, Record<string, string>>;

function ordersWithRefunds(stack: string) {
  return manifestOutputs(stack, {
    topics: [
      { name: "orders", current: { type: "OrderPlaced", version: 1 } },
      { name: "refunds", current: { type: "RefundIssued", version: 1 }, filterAttributeNames: ["region"] },
    ],
    consumers: [
      { name: "invoice", topic: "orders", maxReceiveCount: 4 },
      { name: "ledger", topic: "orders", maxReceiveCount: 7 },
      { name: "refund-ledger", topic: "refunds" },
    ],
    manifest: { redrive: { maxRedrives: 2 } },
  });
}

const courier = courierInProcess;

/** Every command here goes to "AWS" in eu-west-1 with static credentials: no profile, no endpoint. */
const aws = ["--region", REGION];

beforeEach(() => {
  vi.stubEnv("AWS_ACCESS_KEY_ID", "AKIAUNITTEST");
  vi.stubEnv("AWS_SECRET_ACCESS_KEY", "unit-test-secret");
  for (const name of ["AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_SESSION_TOKEN", "COURIER_STACK"])
    vi.stubEnv(name, undefined);
  stacks = { "acme-orders": ordersWithRefunds("acme-orders") };
  for (const mock of [cfnMock, sqsMock, snsMock, cloudwatchMock]) mock.reset();
  cfnMock.on(DescribeStacksCommand).callsFake(({ StackName }: { StackName: string }) => {
    const outputs = stacks[StackName];
    if (!outputs) throw new Error(`Stack with id ${StackName} does not exist`);
    return {
      Stacks: [
        {
          StackName,
          StackStatus: "CREATE_COMPLETE",
          CreationTime: new Date(),
          Outputs: asStackOutputs(outputs),
        },
      ],
    };
  });
  // Each queue's depth is the length of its URL's last segment: distinct per queue, so a figure
  // shown for the wrong queue shows.
  sqsMock.on(GetQueueAttributesCommand).callsFake(({ QueueUrl }: { QueueUrl: string }) => ({
    Attributes: {
      ApproximateNumberOfMessages: String(QueueUrl.split("/").pop()?.length ?? 0),
      ApproximateNumberOfMessagesNotVisible: "0",
      ApproximateNumberOfMessagesDelayed: "0",
    },
  }));
  sqsMock.on(ListQueueTagsCommand).resolves({ Tags: {} });
  sqsMock.on(ReceiveMessageCommand).resolves({ Messages: [] });
  sqsMock.on(ChangeMessageVisibilityBatchCommand).resolves({ Successful: [], Failed: [] });
  cloudwatchMock.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
  snsMock.on(PublishCommand).resolves({ MessageId: "sns-message-1" });
});

afterEach(() => {
  vi.unstubAllEnvs();
});

describe("GIVEN a team's stack with topic orders and consumers invoice and ledger", () => {
  it("WHEN status runs THEN it lists the stack's own consumers with their own queues' figures", async () => {
    const run = await courier("status", "--stack", "acme-orders", ...aws, "--json");

    expect(run.code).toBe(0);
    const status = JSON.parse(run.stdout) as {
      stack: string;
      consumers: { consumer: string; queue: { visible: number } }[];
    };
    expect(status.stack).toBe("acme-orders");
    expect(status.consumers.map((c) => c.consumer)).toEqual(["invoice", "ledger", "refund-ledger"]);
    expect(status.consumers[0]?.queue.visible).toBe("acme-orders-invoice".length);
    const read = sqsMock.commandCalls(GetQueueAttributesCommand).map((c) => c.args[0].input.QueueUrl);
    expect(read).toContain(queueUrl("acme-orders", "ledger-dlq"));
  });

  it("WHEN status runs without --json THEN the table has a row per consumer of the stack", async () => {
    const run = await courier("status", "--stack", "acme-orders", ...aws);

    expect(run.code).toBe(0);
    const rows = run.stdout.split("\n").map((line) => line.split(/\s+/)[0]);
    expect(rows).toEqual(expect.arrayContaining(["invoice", "ledger", "refund-ledger"]));
    expect(run.stdout).not.toContain("verification-email");
  });

  it.each([["dlq", "peek"], ["redrive"], ["pause"], ["resume"]])(
    "WHEN %s %s names a consumer the stack lacks THEN one line lists the stack's consumers and no queue is touched",
    async (...command) => {
      const run = await courier(
        ...command.filter(Boolean),
        "verification-email",
        "--stack",
        "acme-orders",
        ...aws,
      );

      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        'courier: unknown consumer "verification-email"; stack "acme-orders" has consumers: invoice, ledger, refund-ledger\n',
      );
      expect(sqsMock.calls()).toHaveLength(0);
    },
  );

  it("WHEN dlq peek reads a message SQS moved by itself THEN the reason gives the consumer's maxReceiveCount from the stack", async () => {
    sqsMock
      .on(ReceiveMessageCommand, { QueueUrl: queueUrl("acme-orders", "ledger-dlq") })
      .resolvesOnce({ Messages: [dlqMessage({ id: "m-1", type: "OrderPlaced", receiveCount: 8 })] })
      .resolves({ Messages: [] });

    const run = await courier("dlq", "peek", "ledger", "--stack", "acme-orders", ...aws, "--json");

    expect(run.code).toBe(0);
    const peek = JSON.parse(run.stdout) as { dlqUrl: string; messages: { reason: string }[] };
    expect(peek.dlqUrl).toBe(queueUrl("acme-orders", "ledger-dlq"));
    expect(peek.messages[0]?.reason).toBe("unknown: moved by SQS after 7 receives");
  });

  it("WHEN redrive runs a dry run THEN a message redriven the stack's maxRedrives times is quarantined", async () => {
    const lineage = (redriveCount: number) => ({
      originalMessageId: `orig-${redriveCount}`,
      redriveCount,
      lastRedriveAt: new Date().toISOString(),
    });
    sqsMock
      .on(ReceiveMessageCommand, { QueueUrl: queueUrl("acme-orders", "invoice-dlq") })
      .resolvesOnce({
        Messages: [
          dlqMessage({ id: "twice", type: "OrderPlaced", failure: {}, lineage: lineage(2) }),
          dlqMessage({ id: "once", type: "OrderPlaced", failure: {}, lineage: lineage(1) }),
        ],
      })
      .resolves({ Messages: [] });

    const run = await courier(
      "redrive",
      "invoice",
      "--dry-run",
      "--from",
      "dlq",
      "--stack",
      "acme-orders",
      ...aws,
      "--json",
    );

    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as { consumer: string; moved: number; quarantined: number };
    expect(summary).toMatchObject({ consumer: "invoice", moved: 1, quarantined: 1 });
  });
});

describe("GIVEN publish on a stack whose schemas the CLI does not have", () => {
  it("WHEN publishing without --topology THEN the envelope and attributes carry the stack's current type and version, and the output says it was not validated", async () => {
    const run = await courier(
      "publish",
      "orders",
      '{"orderId":"o-1","totalCents":1200}',
      "--stack",
      "acme-orders",
      ...aws,
    );

    expect(run.code).toBe(0);
    const input = snsMock.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input?.TopicArn).toBe(topicArn("acme-orders", "orders"));
    expect(input?.MessageAttributes).toEqual({
      type: { DataType: "String", StringValue: "OrderPlaced" },
      version: { DataType: "String", StringValue: "1" },
    });
    expect(JSON.parse(input?.Message ?? "{}")).toMatchObject({
      type: "OrderPlaced",
      version: 1,
      producer: "courier-cli",
      data: { orderId: "o-1", totalCents: 1200 },
    });
    expect(run.stdout).toContain("MessageId  sns-message-1");
    expect(run.stdout).toContain(NOT_VALIDATED_NOTE);
  });

  it("WHEN publishing without --topology to a topic whose contract sets filter attributes THEN it is refused in one line naming --topology", async () => {
    const run = await courier(
      "publish",
      "refunds",
      '{"orderId":"o-1","region":"eu"}',
      "--stack",
      "acme-orders",
      ...aws,
    );

    expect(run.code).toBe(2);
    expect(run.stderr.trim().split("\n")).toHaveLength(1);
    expect(run.stderr).toContain("(region)");
    expect(run.stderr).toContain("--topology <module>");
    expect(snsMock.calls()).toHaveLength(0);
  });

  it("WHEN publishing with --topology and bad data THEN it is refused with the field named, before any AWS call", async () => {
    const run = await courier(
      "publish",
      "orders",
      '{"orderId":"o-1","totalCents":-5}',
      "--topology",
      TOPOLOGY_MODULE,
      "--stack",
      "acme-orders",
      ...aws,
    );

    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^courier: invalid OrderPlaced v1 for topic "orders": totalCents: /);
    expect(cfnMock.calls()).toHaveLength(0);
    expect(snsMock.calls()).toHaveLength(0);
  });

  it("WHEN publishing with --topology and good data THEN the contract's filter attributes are set", async () => {
    const run = await courier(
      "publish",
      "refunds",
      '{"orderId":"o-1","region":"eu"}',
      "--topology",
      TOPOLOGY_MODULE,
      "--stack",
      "acme-orders",
      ...aws,
      "--json",
    );

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ type: "RefundIssued", version: 1, validated: true });
    const input = snsMock.commandCalls(PublishCommand)[0]?.args[0].input;
    expect(input?.TopicArn).toBe(topicArn("acme-orders", "refunds"));
    expect(input?.MessageAttributes?.region).toEqual({ DataType: "String", StringValue: "eu" });
  });

  it("WHEN --topology has a current contract the stack does not accept THEN it is refused: deploy first", async () => {
    stacks["acme-orders"] = manifestOutputs("acme-orders", {
      topics: [{ name: "orders", current: { type: "OrderPlaced", version: 2 } }],
      consumers: [{ name: "invoice", topic: "orders" }],
    });

    const run = await courier(
      "publish",
      "orders",
      '{"orderId":"o-1","totalCents":1}',
      "--topology",
      TOPOLOGY_MODULE,
      "--stack",
      "acme-orders",
      ...aws,
    );

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'topic "orders" of stack "acme-orders" accepts OrderPlaced v2, not OrderPlaced v1',
    );
    expect(snsMock.calls()).toHaveLength(0);
  });

  it("WHEN the topic is not one of the stack's THEN one line lists the stack's topics", async () => {
    const run = await courier("publish", "account-signups", "{}", "--stack", "acme-orders", ...aws);

    expect(run.code).toBe(2);
    expect(run.stderr).toBe(
      'courier: unknown topic "account-signups"; stack "acme-orders" has topics: orders, refunds\n',
    );
  });

  it("WHEN --topology points at a module without a topology THEN one line says what to export", async () => {
    const run = await courier(
      "publish",
      "orders",
      "{}",
      "--topology",
      fileURLToPath(new URL("./manifest-fixtures.ts", import.meta.url)),
      "--stack",
      "acme-orders",
    );

    expect(run.code).toBe(1);
    expect(run.stderr).toContain(
      'exports no topology: export the one made by defineTopology as default or as "topology"',
    );
  });
});

describe("GIVEN two courier stacks side by side in one account and region", () => {
  beforeEach(() => {
    stacks["acme-billing"] = manifestOutputs("acme-billing", {
      topics: [{ name: "payments", current: { type: "PaymentSettled", version: 3 } }],
      consumers: [{ name: "payout", topic: "payments" }],
    });
    stacks["acme-orders"] = ordersStackOutputs("acme-orders");
  });

  it("WHEN status names each in turn THEN each shows only its own consumers and queues", async () => {
    const billing = JSON.parse((await courier("status", "--stack", "acme-billing", ...aws, "--json")).stdout);
    const orders = JSON.parse((await courier("status", "--stack", "acme-orders", ...aws, "--json")).stdout);

    expect(billing.consumers.map((c: { consumer: string }) => c.consumer)).toEqual(["payout"]);
    expect(orders.consumers.map((c: { consumer: string }) => c.consumer)).toEqual(["invoice", "ledger"]);
    const read = sqsMock.commandCalls(GetQueueAttributesCommand).map((c) => c.args[0].input.QueueUrl);
    expect(read).toContain(queueUrl("acme-billing", "payout"));
    expect(read).toContain(queueUrl("acme-orders", "invoice"));
  });

  it("WHEN a consumer of one is named on the other THEN it is refused with the named stack's consumers", async () => {
    const run = await courier("dlq", "peek", "invoice", "--stack", "acme-billing", ...aws);

    expect(run.stderr).toBe(
      'courier: unknown consumer "invoice"; stack "acme-billing" has consumers: payout\n',
    );
  });

  it("WHEN publishing to each THEN each message goes to the named stack's topic with its contract", async () => {
    await courier("publish", "payments", '{"paymentId":"p-1"}', "--stack", "acme-billing", ...aws);
    const input = snsMock.commandCalls(PublishCommand)[0]?.args[0].input;

    expect(input?.TopicArn).toBe(topicArn("acme-billing", "payments"));
    expect(JSON.parse(input?.Message ?? "{}")).toMatchObject({ type: "PaymentSettled", version: 3 });
  });
});

describe("GIVEN the stack to operate", () => {
  it("WHEN neither --stack nor COURIER_STACK names it THEN the command stops with one line and touches nothing", async () => {
    const run = await courier("status", ...aws);

    expect(run.code).toBe(2);
    expect(run.stderr).toBe("courier: --stack is required (or set COURIER_STACK)\n");
    expect(cfnMock.calls()).toHaveLength(0);
  });

  it("WHEN COURIER_STACK names it THEN it is used", async () => {
    vi.stubEnv("COURIER_STACK", "acme-orders");

    const run = await courier("status", ...aws, "--json");

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout).stack).toBe("acme-orders");
  });

  it("WHEN the named stack is not deployed THEN one line says so and how to reach LocalStack", async () => {
    const run = await courier("status", "--stack", "acme-nope", ...aws);

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `courier: stack "acme-nope" is not deployed on AWS (${REGION}); check --stack, the account and the region, or deploy it first (cdk deploy); for LocalStack add --local\n`,
    );
  });

  it("WHEN the named stack has no courier manifest THEN one line says it is not a courier stack", async () => {
    stacks["plain-vpc"] = { VpcId: "vpc-123" };

    const run = await courier("status", "--stack", "plain-vpc", ...aws);

    expect(run.code).toBe(1);
    expect(run.stderr).toBe(
      `courier: stack "plain-vpc" has no output "CourierManifest"; is it a courier stack, synthesized with the courier construct? (on AWS (${REGION}))\n`,
    );
  });
});
