/**
 * Nothing lost between SNS and SQS, on LocalStack with the CDK app's own stack: delivery to one
 * consumer's queue breaks, SNS puts the message in that subscription's DLQ (its RedrivePolicy),
 * the other consumers are unaffected; after the mend `courier dlq peek` shows it and `courier
 * redrive` sends it to the queue as the raw envelope, and the consumer runtime processes it once.
 *
 * How delivery is broken: LocalStack 4.14 community does not enforce queue or key policies (IAM
 * enforcement is not in it), so a queue policy that refuses SNS still receives here. What it does
 * enforce is the queue's MaximumMessageSize: the test lowers it to 1 KiB and publishes a sign-up
 * over that, so SQS refuses SNS's SendMessage as AWS would refuse a policy-denied one. The
 * queue-policy and KMS cases themselves remain unverified here (see the README).
 *
 * Failure modes covered: a failed delivery dropped instead of dead-lettered; a failure on one
 * subscription leaking to its siblings; peek not showing the subscription DLQ; redrive sending
 * SNS's wrapper (or losing attributes) so the consumer dead-letters it as schema-invalid; the
 * message processed twice or left in the subscription DLQ.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { Logger } from "@aws-lambda-powertools/logger";
import { SNSClient } from "@aws-sdk/client-sns";
import { GetQueueAttributesCommand, SetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import {
  type DeployedTopology,
  deployedConsumer,
  deployedTopic,
} from "../../packages/courier/src/deployment/deployed-topology.ts";
import { type LocalEventSource, startEventSource } from "../../packages/courier/src/worker/event-source.ts";
import { localClientConfig } from "../../src/dev/local-aws-config.ts";
import { type ConsumerMetrics, defineConsumer } from "../helpers/example-consumer.ts";
import { createPublisher } from "../helpers/example-publisher.ts";
import { eventually, eventuallyEmpty, messagesLeft, sqs } from "./event-source-queues.ts";
import { deployTestStack, type TestStack } from "./support/deploy-test-stack.ts";

const repoRoot = fileURLToPath(new URL("../../", import.meta.url));
const endpoint = inject("localstackEndpoint");
const BROKEN = "verification-email";
const SIBLINGS = ["verification-sms", "team-notify"] as const;

let stack: TestStack | undefined;
let topology: DeployedTopology;
const sources: LocalEventSource[] = [];

interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function courier(...args: string[]): Promise<CliRun> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["bin/courier.mjs", ...args, "--local", "--stack", topology.stackName, "--json"],
      { cwd: repoRoot, env: { ...process.env, AWS_ENDPOINT_URL: endpoint } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const silentMetrics = {
  addMetric: () => undefined,
  publishStoredMetrics: () => undefined,
} as unknown as ConsumerMetrics;

beforeAll(async () => {
  stack = await deployTestStack("subscription-dlq");
  topology = stack.topology;
});

afterAll(async () => {
  await Promise.all(sources.splice(0).map((s) => s.stop()));
  await stack?.cleanup();
});

describe("GIVEN SQS refuses SNS's delivery to one consumer's queue", () => {
  it("WHEN a sign-up is published THEN it lands in that subscription's DLQ, the siblings get it, and after the mend peek shows it and redrive has the consumer process it exactly once", async () => {
    const broken = deployedConsumer(topology, BROKEN);
    expect(broken.subscriptionDlqUrl, "the stack outputs the subscription DLQ").toBeDefined();
    const subscriptionDlqUrl = broken.subscriptionDlqUrl as string;
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: broken.queueUrl, AttributeNames: ["MaximumMessageSize"] }),
    );
    const originalMaximum = Attributes?.MaximumMessageSize as string;
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: broken.queueUrl,
        Attributes: { MaximumMessageSize: "1024" },
      }),
    );

    // Over 1 KiB with its attributes: 200 three-byte characters in the name, a 128-character id.
    const publisher = createPublisher({
      sns: new SNSClient({ ...localClientConfig(), endpoint }),
      topicArns: {
        "account-signups": deployedTopic(topology, "account-signups").arn,
        "image-uploads": "unused",
      },
      producer: "subscription-dlq-test",
    });
    const { eventId } = await publisher.publish("account-signups", {
      accountId: `acct-subscription-dlq-${"0".repeat(106)}`,
      email: "ada.lovelace.analytical-engine@example.com",
      displayName: "語".repeat(200),
      phone: "+14155550123",
      locale: "en-US",
      createdAt: new Date().toISOString(),
    });

    // THEN: in the broken consumer's subscription DLQ, not its queue; the siblings unaffected.
    await eventually(async () => (await messagesLeft(subscriptionDlqUrl)) === 1, "the subscription DLQ");
    for (const sibling of SIBLINGS) {
      await eventually(
        async () => (await messagesLeft(deployedConsumer(topology, sibling).queueUrl)) === 1,
        `${sibling}'s queue`,
      );
      expect(await messagesLeft(deployedConsumer(topology, sibling).subscriptionDlqUrl as string)).toBe(0);
    }
    expect(await messagesLeft(broken.queueUrl)).toBe(0);

    // The operator looks: peek lists it beside the (empty) DLQ, with its eventId and why.
    const peek = await courier("dlq", "peek", BROKEN);
    expect(peek.code, peek.stderr).toBe(0);
    const peeked = JSON.parse(peek.stdout);
    expect(peeked.messages).toEqual([]);
    expect(peeked.subscriptionDlq.messages).toHaveLength(1);
    expect(peeked.subscriptionDlq.messages[0]).toMatchObject({
      eventId,
      type: "NewAccount",
      errorClass: "sns-delivery",
    });
    expect(await messagesLeft(subscriptionDlqUrl)).toBe(1); // peek changed nothing

    // Mend, then redrive.
    await sqs.send(
      new SetQueueAttributesCommand({
        QueueUrl: broken.queueUrl,
        Attributes: { MaximumMessageSize: originalMaximum },
      }),
    );
    const redrive = await courier("redrive", BROKEN);
    expect(redrive.code, redrive.stderr).toBe(0);
    expect(JSON.parse(redrive.stdout)).toMatchObject({
      moved: 0,
      subscriptionDlq: { moved: 1, failed: 0, quarantined: 0 },
    });
    await eventuallyEmpty(subscriptionDlqUrl);

    // The consumer runtime gets the raw envelope: valid for the contract, processed once.
    const handled: string[] = [];
    const spec = broken;
    const handler = defineConsumer({
      name: BROKEN,
      queueUrl: broken.queueUrl,
      dlqUrl: broken.dlqUrl,
      logger: new Logger({ serviceName: BROKEN, logLevel: "ERROR" }),
      metrics: silentMetrics,
      handle: (message) => {
        handled.push(message.eventId);
      },
    });
    sources.push(
      await startEventSource({
        sqs,
        queueUrl: broken.queueUrl,
        handler,
        functionName: BROKEN,
        batchSize: spec.batchSize,
        maxBatchingWindowSeconds: 0,
        timeoutSeconds: spec.timeoutSeconds,
        concurrency: 2,
        waitTimeSeconds: 1,
      }),
    );
    await eventually(() => handled.length === 1, "the redriven sign-up to be processed");
    await eventuallyEmpty(broken.queueUrl);
    // A quiet spell: a second delivery would show up here.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(handled).toEqual([eventId]);
    expect(await messagesLeft(broken.dlqUrl)).toBe(0);
    expect(await messagesLeft(subscriptionDlqUrl)).toBe(0);
  });
});
