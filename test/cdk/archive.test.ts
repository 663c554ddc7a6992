/**
 * Each topic's archive as the stack renders it: an encrypted, private, TLS-only bucket whose
 * lifecycle deletes each topic's history after its retention; per topic a queue subscribed with
 * raw delivery off (so SNS's MessageId and publish time are archived) and an archiver that may
 * write only under its topic's prefix; the manifest naming all of it; bad settings refused at
 * synth. Failure modes: history kept forever (no expiration) or for the wrong topic's retention; a
 * public or plain-HTTP bucket; an archiver able to overwrite another topic's history; a raw
 * subscription losing the publish time; a retention over a year accepted.
 */
import { Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { CourierStack } from "../../cdk/stacks/courier-stack.ts";
import { Courier } from "../../packages/courier/src/cdk/courier.ts";
import { ArchiveBucket } from "../../packages/courier/src/cdk/topic-archive.ts";
import { topologyFromOutputs } from "../../packages/courier/src/deployment/deployed-topology.ts";
import {
  defineTopology,
  InvalidTopologyError,
  type TopologySpec,
} from "../../packages/courier/src/topology/topology.ts";
import { type ConsumerName, consumers, courierTopology, type TopicName, topics } from "../../src/topology.ts";
import {
  actionsOf,
  appWithoutBundling,
  type CfnTemplate,
  fakeOutputs,
  logicalId,
  props,
  resourcesOf,
  resourcesOfType,
  roleStatements,
  TEST_SETTINGS,
} from "./fixtures.ts";

const withShortImageHistory: TopologySpec<TopicName, ConsumerName> = {
  topics: { ...topics, "image-uploads": { ...topics["image-uploads"], archive: { retentionDays: 7 } } },
  consumers,
  secrets: courierTopology.secrets,
};

describe("GIVEN the example stack with every topic archived (image-uploads for 7 days)", () => {
  const stack = new CourierStack(appWithoutBundling(), "courier-archive", {
    settings: TEST_SETTINGS,
    topology: withShortImageHistory,
  });
  const courier = stack.courier;
  const json = Template.fromStack(stack).toJSON() as CfnTemplate;
  const bucketId = logicalId(courier.archiveBucket?.bucket ?? stack);

  it("THEN the archive bucket is SSE-encrypted, private, TLS only, and retained with the stack's deletion", () => {
    const bucket = props(json, bucketId);
    expect(bucket.BucketEncryption).toEqual({
      ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
    });
    expect(bucket.PublicAccessBlockConfiguration).toEqual({
      BlockPublicAcls: true,
      BlockPublicPolicy: true,
      IgnorePublicAcls: true,
      RestrictPublicBuckets: true,
    });
    expect(json.Resources[bucketId]?.DeletionPolicy).toBe("Retain");
    const policy = resourcesOfType(json, "AWS::S3::BucketPolicy").find(
      ([, p]) => JSON.stringify(p.Properties?.Bucket) === JSON.stringify({ Ref: bucketId }),
    );
    expect(JSON.stringify(policy?.[1].Properties?.PolicyDocument)).toContain('"aws:SecureTransport":"false"');
  });

  it("THEN each topic's prefix expires after its own retention, and the erasure ledger never expires", () => {
    const rules = (
      props(json, bucketId).LifecycleConfiguration as {
        Rules: Array<{ Id: string; Prefix?: string; ExpirationInDays?: number }>;
      }
    ).Rules;
    const byPrefix = Object.fromEntries(
      rules.filter((r) => r.Prefix).map((r) => [r.Prefix, r.ExpirationInDays]),
    );
    expect(byPrefix).toEqual({
      "archive/account-signups/": 30,
      "archive/image-uploads/": 7,
      "archive/password-resets/": 30,
      "archive/account-exports/": 30,
      "archive/_replays/": 30,
    });
    expect(rules.some((r) => r.Prefix === undefined && r.ExpirationInDays !== undefined)).toBe(false);
  });

  it("THEN each topic has an archive subscription with raw delivery off, and the FIFO topic's archive queue is FIFO", () => {
    for (const topic of Object.keys(topics) as TopicName[]) {
      const archive = courier.archives[topic];
      expect(archive).toBeDefined();
      const subscription = resourcesOfType(json, "AWS::SNS::Subscription").find(
        ([, s]) =>
          JSON.stringify(s.Properties?.Endpoint) ===
          JSON.stringify({ "Fn::GetAtt": [logicalId(archive?.queue.queue ?? stack), "Arn"] }),
      );
      expect(subscription?.[1].Properties?.RawMessageDelivery ?? false).toBe(false);
      expect(subscription?.[1].Properties?.TopicArn).toEqual({ Ref: logicalId(courier.topic(topic).topic) });
    }
    const fifoQueue = props(json, logicalId(courier.archives["password-resets"]?.queue.queue ?? stack));
    expect(fifoQueue.FifoQueue).toBe(true);
  });

  it("THEN each archiver may put objects under its own topic's prefix only, and read nothing but an offloading topic's payloads", () => {
    for (const topic of Object.keys(topics) as TopicName[]) {
      const fn = courier.archives[topic]?.archiver.function;
      const roleId = logicalId(fn?.role ?? stack);
      const s3 = roleStatements(json, roleId).filter((s) => actionsOf(s).some((a) => a.startsWith("s3:")));
      const puts = s3.filter((s) => actionsOf(s).includes("s3:PutObject"));
      expect(puts.flatMap(actionsOf)).toEqual(["s3:PutObject"]);
      expect(JSON.stringify(puts.flatMap(resourcesOf))).toContain(`/archive/${topic}/*`);
      const reads = s3.filter((s) => !actionsOf(s).includes("s3:PutObject"));
      if (topic === "account-exports") {
        // It reads a pointer's payload for the envelope and subject: under its topic's prefix only.
        expect(reads.flatMap(actionsOf).sort()).toEqual(["s3:GetObject", "s3:ListBucket"]);
        expect(JSON.stringify(reads.flatMap(resourcesOf))).toContain("/account-exports/*");
        expect(JSON.stringify(reads.flatMap(resourcesOf))).toContain(
          logicalId(courier.payloadBucket?.bucket ?? stack),
        );
      } else {
        expect(reads).toEqual([]);
      }
    }
  });

  it("THEN the manifest names the bucket and each topic's archive, which a tool reads back", () => {
    const deployed = topologyFromOutputs("courier-archive", fakeOutputs(json));
    expect(deployed.manifest.archiveBucket).toBe(`ref:${bucketId}`);
    expect(deployed.topics["image-uploads"]?.archive).toMatchObject({ retentionDays: 7, batchSize: 100 });
    expect(deployed.topics["account-signups"]?.archive).toMatchObject({ subject: "accountId" });
    expect(deployed.topics["password-resets"]?.archive).toMatchObject({
      batchSize: 10,
      maxBatchingWindowSeconds: 0,
    });
    expect(deployed.topics["account-signups"]?.archive?.environment).toMatchObject({
      COURIER_ARCHIVE_TOPIC: "account-signups",
      COURIER_ARCHIVE_SUBJECT: "accountId",
    });
    expect(deployed.topics["account-signups"]?.archive?.environment).not.toHaveProperty(
      "COURIER_PAYLOAD_LOCATIONS",
    );
    expect(
      JSON.parse(deployed.topics["account-exports"]?.archive?.environment.COURIER_PAYLOAD_LOCATIONS ?? "[]"),
    ).toEqual([{ bucket: expect.any(String), prefix: "account-exports/" }]);
  });
});

describe("GIVEN archive settings", () => {
  const base = courierTopology;

  it("WHEN a retention is over 365 days or a subject is not a field name THEN defineTopology refuses them, naming the topic", () => {
    const declare = (archive: unknown) => () =>
      defineTopology({
        topics: { orders: { current: base.topics["image-uploads"].current, archive: archive as never } },
        consumers: {
          invoice: { topic: "orders", handlerEntry: "lambdas/thumbnails/handler.ts" },
        },
      });
    expect(declare({ retentionDays: 366 })).toThrow(InvalidTopologyError);
    expect(declare({ retentionDays: 366 })).toThrow(
      /topic "orders": archive.retentionDays must be a whole number from 1 to 365/,
    );
    expect(declare({ retentionDays: 0 })).toThrow(/from 1 to 365/);
    expect(declare({ subject: "account id" })).toThrow(
      /archive.subject "account id" is not a data field name/,
    );
    expect(declare({ retentionDays: 365, subject: "accountId" })).not.toThrow();
  });

  it("WHEN a topic says archive: false THEN it has no archive, and a stack with none has no archive bucket", () => {
    const none: TopologySpec<TopicName, ConsumerName> = {
      topics: Object.fromEntries(
        Object.entries(topics).map(([name, spec]) => [name, { ...spec, archive: false }]),
      ) as never,
      consumers,
      secrets: courierTopology.secrets,
    };
    const stack = new Stack(appWithoutBundling(), "no-archive");
    const courier = new Courier(stack, "Courier", { topology: none });
    expect(courier.archiveBucket).toBeUndefined();
    expect(Object.keys(courier.archives)).toEqual([]);
  });

  it("WHEN the bucket is given a retention of 400 days THEN the construct refuses it", () => {
    expect(() => new ArchiveBucket(new Stack(), "Archive", { retentionDays: { orders: 400 } })).toThrow(
      /retention of orders must be 1 to 365 days, got 400/,
    );
  });
});
