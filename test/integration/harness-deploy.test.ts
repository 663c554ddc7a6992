/**
 * The local deploy of the real CDK app on LocalStack, read back through the SNS and SQS APIs.
 * Failure modes covered: the transform's cascade eating part of the topology, a subscription
 * missing or delivering SNS-wrapped bodies, a filter policy lost on the way, a redrive policy or DLQ
 * retention that differs from the topology, a redeploy that is not idempotent, and a deployed
 * stack whose topology cannot be read back.
 */
import {
  GetSubscriptionAttributesCommand,
  GetTopicAttributesCommand,
  ListSubscriptionsByTopicCommand,
  SNSClient,
} from "@aws-sdk/client-sns";
import { GetQueueAttributesCommand, SQSClient } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { readDeployedTopology as readDeployedStack } from "../../packages/courier/src/deployment/deployed-stack.ts";
import {
  type ConsumerSpec,
  isOrderedTopic,
  type TopicSpec,
} from "../../packages/courier/src/topology/topology.ts";
import { DLQ_RETENTION_DAYS } from "../../packages/courier/src/topology/topology-problems.ts";
import { deployTemplate, LocalDeployError } from "../../src/dev/cloudformation.ts";
import { deleteStackOnLocalStack, deployToLocalStack, readDeployedTopology } from "../../src/dev/deploy.ts";
import { localClientConfig } from "../../src/dev/local-aws-config.ts";
import { localTableName } from "../../src/dev/local-template.ts";
import { type ConsumerName, consumerNames, consumers, topicNames, topics } from "../../src/topology.ts";
import { consumerOf, topicOf } from "../helpers/example-stack.ts";
import { deployTestStack, type TestStack, testStackName } from "./support/deploy-test-stack.ts";

const endpoint = inject("localstackEndpoint");
const config = localClientConfig({ ...process.env, AWS_ENDPOINT_URL: endpoint });
const sns = new SNSClient(config);
const sqs = new SQSClient(config);
let stack: TestStack;

beforeAll(async () => {
  stack = await deployTestStack("harness-deploy");
});

afterAll(async () => {
  await stack?.cleanup();
});

async function queueAttributes(queueUrl: string): Promise<Record<string, string>> {
  const result = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["All"] }),
  );
  return result.Attributes ?? {};
}

async function subscriptionsOf(consumer: ConsumerName) {
  const spec = consumers[consumer];
  const { topology } = stack;
  const listed = await sns.send(
    new ListSubscriptionsByTopicCommand({ TopicArn: topicOf(topology, spec.topic).arn }),
  );
  const mine = (listed.Subscriptions ?? []).filter(
    (s) => s.Endpoint === consumerOf(topology, consumer).queueArn,
  );
  return Promise.all(
    mine.map(async (s) => {
      const attributes = await sns.send(
        new GetSubscriptionAttributesCommand({ SubscriptionArn: s.SubscriptionArn }),
      );
      return { protocol: s.Protocol, attributes: attributes.Attributes ?? {} };
    }),
  );
}

describe("local deploy of the CDK app", () => {
  it("GIVEN the synthesized template WHEN deployed THEN only functions, event source mappings, the table and their dependants were left out", () => {
    const removedTypes = new Set(stack.deployment.removed.map((r) => r.type));
    for (const kept of [
      "AWS::SNS::Topic",
      "AWS::SNS::Subscription",
      "AWS::SQS::Queue",
      "AWS::SQS::QueuePolicy",
      "AWS::KMS::Key",
    ]) {
      expect(removedTypes.has(kept)).toBe(false);
    }
    expect(removedTypes).toContain("AWS::Lambda::Function");
    expect(removedTypes).toContain("AWS::Lambda::EventSourceMapping");
    expect(removedTypes).toContain("AWS::DynamoDB::Table");
    // Outputs are kept: the manifest and the example's own outputs are all there.
    expect(stack.deployment.removed.filter((r) => r.type === "Output")).toEqual([]);
  });

  it("GIVEN the deployed stack WHEN the package's reader reads its manifest THEN every consumer and topic is there with LocalStack's addresses, the dropped function and mapping absent, and the dropped table named for the local server", async () => {
    const deployed = await readDeployedStack(stack.topology.stackName, config);
    expect(Object.keys(deployed.consumers).sort()).toEqual([...consumerNames].sort());
    expect(Object.keys(deployed.topics).sort()).toEqual([...topicNames].sort());
    const table = stack.deployment.removed.find(
      (r) => r.type === "AWS::DynamoDB::Table" && r.logicalId.includes("Idempotency"),
    );
    expect(deployed.idempotencyTable).toBe(localTableName(stack.topology.stackName, table?.logicalId ?? "?"));
    expect(deployed.payloadBucket).toMatch(/^[a-z0-9.-]+$/);
    expect(deployed.secretArns.verification).toMatch(/^arn:aws:secretsmanager:/);
    expect(deployed.manifest.redrive.functionName).toBeUndefined();
    expect(deployed.manifest.redrive.maxRedrives).toBe(3);
    for (const name of consumerNames) {
      const consumer = deployed.consumers[name];
      expect(consumer?.queueUrl, name).toMatch(/^http/);
      expect(consumer?.functionName, name).toBeUndefined();
      expect(consumer?.eventSourceMappingId, name).toBeUndefined();
      expect(consumer?.environment.COURIER_QUEUE_URL, name).toBe(consumer?.queueUrl);
      expect(consumer?.environment.COURIER_DLQ_URL, name).toBe(consumer?.dlqUrl);
    }
    // The example's own variables, added on the functions after the construct, are in the manifest too.
    expect(deployed.consumers["verification-email"]?.environment).toMatchObject({
      MAIL_FROM: expect.any(String),
      IDEMPOTENCY_TABLE: deployed.idempotencyTable,
      VERIFICATION_SECRET_ARN: deployed.secretArns.verification,
    });
    expect(
      JSON.parse(deployed.consumers["account-export"]?.environment.COURIER_PAYLOAD_LOCATIONS ?? "[]"),
    ).toEqual([{ bucket: deployed.payloadBucket, prefix: "account-exports/" }]);
    expect(deployed.outputs.UploadsBucketName).toBeTruthy();
    expect(deployed.outputs.AuditTableName).toBe(
      localTableName(
        stack.topology.stackName,
        stack.deployment.removed.find((r) => r.logicalId.startsWith("AuditTable"))?.logicalId ?? "?",
      ),
    );
  });

  it.each(topicNames)(
    "GIVEN topic %s WHEN read back THEN it exists and is encrypted with a customer key",
    async (topic) => {
      const result = await sns.send(
        new GetTopicAttributesCommand({ TopicArn: topicOf(stack.topology, topic).arn }),
      );
      expect(result.Attributes?.TopicArn).toBe(topicOf(stack.topology, topic).arn);
      expect(result.Attributes?.KmsMasterKeyId).toMatch(/^arn:aws:kms:|^[0-9a-f-]{36}$/);
    },
  );

  it.each(consumerNames)(
    "GIVEN consumer %s WHEN its subscription is read back THEN there is exactly one, SQS, raw unless FIFO",
    async (consumer) => {
      const subscriptions = await subscriptionsOf(consumer);
      expect(subscriptions).toHaveLength(1);
      expect(subscriptions[0]?.protocol).toBe("sqs");
      // A FIFO subscription keeps the SNS envelope, which carries the topic's sequence number.
      const fifo = isOrderedTopic(topics[consumers[consumer].topic] as TopicSpec);
      expect(subscriptions[0]?.attributes.RawMessageDelivery).toBe(fifo ? "false" : "true");
    },
  );

  it.each(consumerNames)(
    "GIVEN consumer %s WHEN its subscription is read back THEN its filter policy is the topology's (or none)",
    async (consumer) => {
      const [subscription] = await subscriptionsOf(consumer);
      const expected = (consumers[consumer] as ConsumerSpec).filterPolicy;
      if (expected === undefined) expect(subscription?.attributes.FilterPolicy).toBeUndefined();
      else expect(JSON.parse(subscription?.attributes.FilterPolicy ?? "null")).toEqual(expected);
    },
  );

  it.each(consumerNames)(
    "GIVEN consumer %s WHEN its queues are read back THEN the redrive policy and DLQ match the topology",
    async (consumer) => {
      const spec = consumers[consumer];
      const deployed = consumerOf(stack.topology, consumer);
      const queue = await queueAttributes(deployed.queueUrl);
      expect(JSON.parse(queue.RedrivePolicy ?? "{}")).toEqual({
        deadLetterTargetArn: deployed.dlqArn,
        maxReceiveCount: spec.maxReceiveCount,
      });
      expect(Number(queue.VisibilityTimeout)).toBe(spec.visibilityTimeoutSeconds);
      expect(queue.KmsMasterKeyId).toBeTruthy();

      const dlq = await queueAttributes(deployed.dlqUrl);
      expect(Number(dlq.MessageRetentionPeriod)).toBe(DLQ_RETENTION_DAYS * 24 * 3600);
      expect(JSON.parse(dlq.RedriveAllowPolicy ?? "{}")).toEqual({
        redrivePermission: "byQueue",
        sourceQueueArns: [deployed.queueArn],
      });
    },
  );

  it("GIVEN the deployed stack WHEN its topology is read back THEN it equals what the deploy returned", async () => {
    expect(await readDeployedTopology(stack.topology.stackName, { endpoint })).toEqual(stack.topology);
  });

  it("GIVEN the same stack deployed again WHEN nothing changed THEN the deploy succeeds with the same topology", async () => {
    const again = await deployToLocalStack({
      stackName: stack.topology.stackName,
      endpoint,
      template: inject("stackCopies")["harness-deploy"]?.template,
    });
    expect(["unchanged", "updated"]).toContain(again.action);
    expect(again.topology).toEqual(stack.topology);
  });

  it("GIVEN a template with a resource LocalStack rejects WHEN deployed THEN the error names the resource and why, and the stack can be deleted", async () => {
    const stackName = testStackName("harness-failing");
    try {
      const attempt = deployTemplate(
        stackName,
        {
          Resources: {
            Fine: { Type: "AWS::SQS::Queue" },
            Rejected: { Type: "AWS::SQS::Queue", Properties: { QueueName: "not a valid name!" } },
          },
        },
        { endpoint },
      );
      await expect(attempt).rejects.toThrow(LocalDeployError);
      await expect(attempt).rejects.toThrow(
        /failed resources: Rejected \(AWS::SQS::Queue\): .*InvalidParameterValue/,
      );
    } finally {
      await deleteStackOnLocalStack(stackName, { endpoint });
    }
    await expect(readDeployedTopology(stackName, { endpoint })).rejects.toThrow(/is not deployed/);
  });
});
