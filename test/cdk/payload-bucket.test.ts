/**
 * The payload bucket, rendered only when a topic offloads: encrypted, private, TLS only, expired by
 * lifecycle a day after the longest DLQ retention (a redriven pointer still resolves); readers are
 * derived from the topology (each consumer of an offloading topic reads under its topic's prefix,
 * nothing else) and find it in COURIER_PAYLOAD_LOCATIONS; cdk-nag passes with the derived
 * acknowledgements. Failure modes: a bucket for a stack that offloads nothing; payloads expiring
 * before the DLQ copies pointing to them; a consumer of another topic able to read payloads; a
 * grant on the whole bucket.
 */
import { Stack } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import { describe, expect, it } from "vitest";
import { CourierStack } from "../../cdk/stacks/courier-stack.ts";
import { PayloadBucket } from "../../packages/courier/src/cdk/payload-bucket.ts";
import type { TopologySpec } from "../../packages/courier/src/topology/topology.ts";
import { DLQ_RETENTION_DAYS } from "../../packages/courier/src/topology/topology-problems.ts";
import { type ConsumerName, consumers, courierTopology, type TopicName, topics } from "../../src/topology.ts";

const secrets = courierTopology.secrets;

import {
  actionsOf,
  appWithoutBundling,
  type CfnTemplate,
  logicalId,
  nagFindings,
  parseJoinedJson,
  props,
  resourcesOf,
  resourcesOfType,
  roleStatements,
  synthCourierStack,
  TEST_SETTINGS,
} from "./fixtures.ts";

const offloading: TopologySpec<TopicName, ConsumerName> = {
  topics: { ...topics, "image-uploads": { ...topics["image-uploads"], offloadLargePayloads: true } },
  consumers,
  secrets,
};

/** Courier's topology with account-exports as a plain topic: nothing offloads. */
const nothingOffloads: TopologySpec<TopicName, ConsumerName> = {
  topics: { ...topics, "account-exports": { ...topics["account-exports"], offloadLargePayloads: false } },
  consumers,
  secrets,
};

function s3StatementsOn(json: CfnTemplate, role: string, bucketId: string) {
  return roleStatements(json, role).filter((s) => JSON.stringify(s.Resource).includes(bucketId));
}

describe("payload bucket", () => {
  const stack = new CourierStack(appWithoutBundling(), "courier-payloads", {
    settings: TEST_SETTINGS,
    topology: offloading,
  });
  const json = Template.fromStack(stack).toJSON() as CfnTemplate;
  const bucketId = logicalId(stack.courier.payloadBucket?.bucket ?? stack);

  it("GIVEN no topic offloads WHEN the stack is synthesized THEN there is no payload bucket and no output", () => {
    const plain = new CourierStack(appWithoutBundling(), "courier-no-payloads", {
      settings: TEST_SETTINGS,
      topology: nothingOffloads,
    });
    expect(plain.courier.payloadBucket).toBeUndefined();
    const manifest = parseJoinedJson(Template.fromStack(plain).toJSON().Outputs?.CourierManifest?.Value);
    expect(manifest).not.toHaveProperty("payloadBucket");
  });

  it("GIVEN courier's own topology (account-exports offloads) WHEN synthesized THEN the bucket is in the manifest and account-export alone may read it: GetObject under account-exports/ and a prefix-conditioned ListBucket, no write", () => {
    const courier = synthCourierStack("courier-own-payloads");
    const bucket = courier.stack.courier.payloadBucket?.bucket;
    expect(bucket).toBeDefined();
    const id = logicalId(bucket ?? courier.stack);
    expect(parseJoinedJson(courier.json.Outputs?.CourierManifest?.Value)).toMatchObject({
      payloadBucket: { Ref: id },
    });
    const roleOf = (name: ConsumerName) => {
      const fn = courier.courier.consumerFunction(name);
      return logicalId(fn.function.role?.node.defaultChild ?? fn);
    };
    const statements = s3StatementsOn(courier.json, roleOf("account-export"), id);
    expect(statements.flatMap(actionsOf).sort()).toEqual(["s3:GetObject", "s3:ListBucket"]);
    const get = statements.find((s) => actionsOf(s).includes("s3:GetObject"));
    expect(JSON.stringify(resourcesOf(get ?? ({} as never)))).toContain('"/account-exports/*"');
    const list = statements.find((s) => actionsOf(s).includes("s3:ListBucket"));
    expect((list as { Condition?: unknown }).Condition).toEqual({
      StringLike: { "s3:prefix": ["account-exports/*"] },
    });
    const readers = (Object.keys(consumers) as ConsumerName[]).filter(
      (name) => s3StatementsOn(courier.json, roleOf(name), id).length > 0,
    );
    expect(readers).toEqual(["account-export"]);
  });

  it("GIVEN image-uploads offloads WHEN synthesized THEN the bucket is SSE-encrypted, private, and expires every payload (an orphan too) a day after the longest chain of pointers", () => {
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
    const rules = (
      bucket.LifecycleConfiguration as { Rules: Array<{ Id: string; ExpirationInDays?: number }> }
    ).Rules;
    // 4 stays (the first and one per allowed redrive, 3) of queue retention (4) plus DLQ retention (14), + 1,
    // after the topic's archive (30 days by default) which keeps the pointer and may replay it on its last day.
    const rule = rules.find((r) => r.Id === "expire-payloads") as Record<string, unknown> | undefined;
    expect(rule?.ExpirationInDays).toBe(30 + 4 * (4 + DLQ_RETENTION_DAYS) + 1);
    // No filter: nothing (a tag, a prefix) keeps an object past it.
    expect(rule?.TagFilters ?? rule?.Prefix ?? rule?.Filter).toBeUndefined();
    expect(parseJoinedJson(json.Outputs?.CourierManifest?.Value)).toMatchObject({
      payloadBucket: { Ref: bucketId },
    });
  });

  it("GIVEN the bucket policy WHEN read THEN it denies every request without TLS", () => {
    const policy = resourcesOfType(json, "AWS::S3::BucketPolicy").find(([, p]) =>
      JSON.stringify(p.Properties?.Bucket).includes(bucketId),
    );
    const statements = (
      (policy?.[1].Properties?.PolicyDocument ?? { Statement: [] }) as {
        Statement: Array<Record<string, unknown>>;
      }
    ).Statement;
    expect(statements).toContainEqual(
      expect.objectContaining({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
    );
  });

  it("GIVEN thumbnails consumes image-uploads WHEN its role is read THEN it may GetObject under image-uploads/ only and list only that prefix; its environment names the location", () => {
    const fn = stack.courier.consumerFunction("thumbnails");
    const role = logicalId(fn.function.role?.node.defaultChild ?? fn);
    const statements = roleStatements(json, role).filter((s) =>
      JSON.stringify(s.Resource).includes(bucketId),
    );
    expect(statements).toHaveLength(2);
    const get = statements.find((s) => actionsOf(s).includes("s3:GetObject"));
    expect(actionsOf(get ?? ({} as never))).toEqual(["s3:GetObject"]);
    expect(JSON.stringify(resourcesOf(get ?? ({} as never)))).toContain('"/image-uploads/*"');
    const list = statements.find((s) => actionsOf(s).includes("s3:ListBucket"));
    expect((list as { Condition?: unknown }).Condition).toEqual({
      StringLike: { "s3:prefix": ["image-uploads/*"] },
    });
    const variables = (
      props(json, logicalId(fn.function.node.defaultChild ?? fn)).Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(parseJoinedJson(variables.COURIER_PAYLOAD_LOCATIONS)).toEqual([
      { bucket: { Ref: bucketId }, prefix: "image-uploads/" },
    ]);
  });

  it("GIVEN verification-email consumes account-signups (not offloading) WHEN its role and environment are read THEN neither mentions the payload bucket", () => {
    const fn = stack.courier.consumerFunction("verification-email");
    const role = logicalId(fn.function.role?.node.defaultChild ?? fn);
    expect(JSON.stringify(roleStatements(json, role))).not.toContain(bucketId);
    const variables = (
      props(json, logicalId(fn.function.node.defaultChild ?? fn)).Environment as {
        Variables: Record<string, unknown>;
      }
    ).Variables;
    expect(variables).not.toHaveProperty("COURIER_PAYLOAD_LOCATIONS");
  });

  it("GIVEN the offloading stack under cdk-nag WHEN synthesized with courier's acknowledgements THEN nothing is reported", () => {
    const { findings } = nagFindings(
      (app) =>
        new CourierStack(app, "courier-payloads-nag", { settings: TEST_SETTINGS, topology: offloading }),
      true,
    );
    expect(findings).toEqual([]);
  });

  it("GIVEN an expiry not above the longest retention WHEN the bucket is built THEN it is refused, naming both", () => {
    expect(
      () => new PayloadBucket(new Stack(), "P", { expirationDays: 14, longestRetentionDays: 14 }),
    ).toThrow(
      /expirationDays \(14\) must be a whole number above the longest queue or DLQ retention \(14 days\)/,
    );
  });
});
