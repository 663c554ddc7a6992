/**
 * Fan-out on the real topology: the CDK app's stack deployed to LocalStack (functions left out),
 * messages published with the producer library, delivery observed on the consumer queues.
 * Failure modes covered: a consumer queue missing its subscription, duplicate subscriptions,
 * SNS-wrapped (non-raw) bodies, lost message attributes, a filter policy that leaks or drops
 * messages, a subscription on the wrong topic.
 */
import { randomUUID } from "node:crypto";
import { SNSClient } from "@aws-sdk/client-sns";
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { DeployedTopology } from "../../packages/courier/src/deployment/deployed-topology.ts";
import {
  type ImageUploadedV1,
  ImageUploadedV1Contract,
  type NewAccountV1,
  NewAccountV1Contract,
} from "../../src/app/contracts/index.ts";
import { localClientConfig } from "../../src/dev/local-aws-config.ts";
import {
  type ConsumerName,
  consumerNames,
  consumers,
  type TopicName,
  topicNames,
} from "../../src/topology.ts";
import { createPublisher, type Publisher } from "../helpers/example-publisher.ts";
import { consumerOf, topicOf, uploadsBucketOf } from "../helpers/example-stack.ts";
import { deployTestStack, type TestStack } from "./support/deploy-test-stack.ts";

/** How long to wait for an expected message; LocalStack on two busy cores can be slow. */
const DELIVERY_DEADLINE_MS = 60_000;
/** After the expected messages arrived, how long a queue must stay empty to count as done. */
const QUIET_PERIOD_MS = 4_000;

const endpoint = inject("localstackEndpoint");
const clientConfig = { ...localClientConfig(), endpoint };
const sqs = new SQSClient(clientConfig);
let stack: TestStack | undefined;
let topology: DeployedTopology;
let publisher: Publisher;

beforeAll(async () => {
  stack = await deployTestStack("fanout");
  topology = stack.topology;
  const topicArns = Object.fromEntries(topicNames.map((t) => [t, topicOf(topology, t).arn])) as Record<
    TopicName,
    string
  >;
  publisher = createPublisher({
    sns: new SNSClient(clientConfig),
    topicArns,
    producer: "fanout-test",
  });
});

afterAll(async () => {
  await stack?.cleanup();
});

/**
 * Receives (long polling) and deletes messages from a queue until `expected` have arrived or the
 * deadline passes, then keeps receiving until the queue has been quiet for QUIET_PERIOD_MS, so a
 * duplicate or stray delivery is counted too.
 */
async function collect(queueUrl: string, expected: number): Promise<Message[]> {
  const received: Message[] = [];
  const deadline = Date.now() + DELIVERY_DEADLINE_MS;
  let quietSince = Date.now();
  for (;;) {
    const enough = received.length >= expected;
    if (enough && Date.now() - quietSince >= QUIET_PERIOD_MS) break;
    if (!enough && Date.now() >= deadline) break;
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: enough ? 1 : 2,
        MessageAttributeNames: ["All"],
      }),
    );
    if (Messages.length === 0) continue;
    received.push(...Messages);
    quietSince = Date.now();
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
  return received;
}

/** Collects from several consumer queues at once; one deadline and quiet period for all. */
async function collectAll(
  expected: Partial<Record<ConsumerName, number>>,
): Promise<Record<ConsumerName, Message[]>> {
  const entries = await Promise.all(
    consumerNames.map(
      async (c) => [c, await collect(consumerOf(topology, c).queueUrl, expected[c] ?? 0)] as const,
    ),
  );
  return Object.fromEntries(entries) as Record<ConsumerName, Message[]>;
}

const eventIdsOf = (messages: readonly Message[]) =>
  messages.map((m) => (JSON.parse(m.Body ?? "{}") as { eventId?: string }).eventId);

function signup(overrides: Partial<NewAccountV1> = {}): NewAccountV1 {
  const id = randomUUID().slice(0, 8);
  return {
    accountId: `acc_${id}`,
    email: `user-${id}@example.com`,
    displayName: "Grace Hopper",
    locale: "en-US",
    createdAt: new Date().toISOString(),
    ...overrides,
  };
}

const consumersOf = (topic: TopicName) => Object.values(consumers).filter((c) => c.topic === topic);
const signupQueues = consumersOf("account-signups").map((c) => c.name as ConsumerName);

describe("fan-out of the deployed topology", () => {
  it("GIVEN the topology WHEN read THEN account-signups has the three sign-up consumers and image-uploads only thumbnails", () => {
    expect(signupQueues.sort()).toEqual(["team-notify", "verification-email", "verification-sms"]);
    expect(consumersOf("image-uploads").map((c) => c.name)).toEqual(["thumbnails"]);
  });

  it("GIVEN a sign-up with a phone WHEN published THEN each sign-up queue receives it exactly once as the raw envelope with its attributes", async () => {
    const data = signup({ phone: "+14155550123" });
    const { eventId } = await publisher.publish("account-signups", data);

    const received = await collectAll({ "verification-email": 1, "verification-sms": 1, "team-notify": 1 });

    for (const consumer of signupQueues) {
      const messages = received[consumer];
      expect(messages, consumer).toHaveLength(1);
      const body = NewAccountV1Contract.envelope.parse(JSON.parse(messages[0]?.Body ?? ""));
      expect(body, consumer).toMatchObject({
        eventId,
        type: "NewAccount",
        version: 1,
        producer: "fanout-test",
        data,
      });
      expect(messages[0]?.MessageAttributes, consumer).toMatchObject({
        type: { DataType: "String", StringValue: "NewAccount" },
        version: { DataType: "String", StringValue: "1" },
        hasPhone: { DataType: "String", StringValue: "true" },
      });
    }
    expect(received.thumbnails).toHaveLength(0);
  });

  it("GIVEN sign-ups with and without a phone WHEN published THEN the SMS queue receives only the one with a phone", async () => {
    const withPhone = await publisher.publish("account-signups", signup({ phone: "+442071838750" }));
    const withoutPhone = await publisher.publish("account-signups", signup());

    const received = await collectAll({ "verification-email": 2, "verification-sms": 1, "team-notify": 2 });

    expect(eventIdsOf(received["verification-sms"])).toEqual([withPhone.eventId]);
    expect(eventIdsOf(received["verification-email"]).sort()).toEqual(
      [withPhone.eventId, withoutPhone.eventId].sort(),
    );
    expect(eventIdsOf(received["team-notify"]).sort()).toEqual(
      [withPhone.eventId, withoutPhone.eventId].sort(),
    );
  });

  it("GIVEN an image upload WHEN published THEN only the thumbnails queue receives it, once, as the raw envelope", async () => {
    const data: ImageUploadedV1 = {
      imageId: `img_${randomUUID().slice(0, 8)}`,
      bucket: uploadsBucketOf(topology),
      key: "originals/fanout.jpg",
      contentType: "image/jpeg",
      byteSize: 2048,
      uploadedBy: "acc_fanout",
      uploadedAt: new Date().toISOString(),
    };
    const { eventId } = await publisher.publish("image-uploads", data);

    const received = await collectAll({ thumbnails: 1 });

    expect(received.thumbnails).toHaveLength(1);
    const body = ImageUploadedV1Contract.envelope.parse(JSON.parse(received.thumbnails[0]?.Body ?? ""));
    expect(body).toMatchObject({ eventId, type: "ImageUploaded", data });
    expect(received.thumbnails[0]?.MessageAttributes?.contentType?.StringValue).toBe("image/jpeg");
    for (const consumer of signupQueues) expect(received[consumer], consumer).toHaveLength(0);
  });
});
