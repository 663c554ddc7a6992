/**
 * The shared resources and the deployability rules of the stack. Failure modes covered: a custom
 * resource (LocalStack skips them, CloudFormation waits on them), a fixed physical name (two copies
 * of the stack would collide), an unencrypted or public bucket, a table without TTL or PITR.
 * A circular reference (a DLQ naming its source queue by Ref) needs no test of its own:
 * Template.fromStack refuses a template with a dependency cycle, so every CDK test file fails on one.
 */
import { Match, Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { CourierStack } from "../../cdk/stacks/courier-stack.ts";
import { isOrderedTopic, type TopicSpec } from "../../packages/courier/src/topology/topology.ts";
import { consumerNames, consumers, exampleNeeds, topicNames, topics } from "../../src/topology.ts";
import {
  appWithoutBundling,
  type CfnTemplate,
  logicalId,
  parseJoinedJson,
  props,
  resourcesOfType,
  type SynthesizedCourier,
  synthCourierStack,
  TEST_SETTINGS,
} from "./fixtures.ts";

const STACK_NAME = "courier-resources-test";

let synth: SynthesizedCourier;
let json: CfnTemplate;
beforeAll(() => {
  synth = synthCourierStack(STACK_NAME);
  json = synth.json;
});

describe("GIVEN the synthesized stack", () => {
  it("THEN it holds no custom resource of any kind", () => {
    const custom = Object.entries(json.Resources).filter(
      ([, r]) => r.Type.startsWith("Custom::") || r.Type === "AWS::CloudFormation::CustomResource",
    );
    expect(custom).toEqual([]);
  });

  it("THEN no resource has a fixed physical name; queue and FIFO topic names carry the stack name", () => {
    const nameProperties = [
      "TopicName",
      "BucketName",
      "TableName",
      "Name",
      "LogGroupName",
      "FunctionName",
      "RoleName",
      "AlarmName",
      "AliasName",
    ];
    // A FIFO topic needs a name (ending in .fifo); CDK derives it from the construct path, stack included.
    const fifoTopicNames = resourcesOfType(json, "AWS::SNS::Topic")
      .filter(([, t]) => t.Properties?.FifoTopic === true)
      .map(([, t]) => String(t.Properties?.TopicName));
    for (const n of fifoTopicNames) expect(n).toMatch(new RegExp(`^${STACK_NAME}-[A-Za-z0-9_-]+\\.fifo$`));
    const named = Object.entries(json.Resources)
      .filter(([, r]) => r.Type !== "AWS::Lambda::EventSourceMapping")
      .filter(([, r]) => !(r.Type === "AWS::SNS::Topic" && r.Properties?.FifoTopic === true))
      .flatMap(([id, r]) =>
        nameProperties.filter((p) => r.Properties?.[p] !== undefined).map((p) => `${id}.${p}`),
      );
    expect(named).toEqual([]);
    const queueNames = resourcesOfType(json, "AWS::SQS::Queue")
      .map(([, q]) => q.Properties?.QueueName)
      .filter((n) => n !== undefined);
    // Every source queue is named (its DLQ names it back); a FIFO DLQ is named too, for its .fifo.
    const fifoConsumers = consumerNames.filter((n) =>
      isOrderedTopic(topics[consumers[n].topic] as TopicSpec),
    ).length;
    // (and its subscription DLQ) are named too, for their .fifo suffix. Each topic's archive queue
    // is a consumer queue like the others.
    const archived = topicNames.filter((t) => (topics[t] as TopicSpec).archive !== false);
    const fifoArchives = archived.filter((t) => isOrderedTopic(topics[t] as TopicSpec)).length;
    expect(queueNames).toHaveLength(
      consumerNames.length + 2 * fifoConsumers + archived.length + 2 * fifoArchives,
    );
    for (const n of queueNames) {
      expect(String(n)).toMatch(new RegExp(`^${STACK_NAME}-[A-Za-z0-9_-]+(\\.fifo)?$`));
    }
    for (const n of queueNames) expect(String(n).length).toBeLessThanOrEqual(80);
  });

  it("THEN every function logs to its own log group with a retention, which leaves with the stack", () => {
    const functions = resourcesOfType(json, "AWS::Lambda::Function");
    const groups = functions.map(
      ([, f]) =>
        (f.Properties?.LoggingConfig as { LogGroup?: { Ref?: string } } | undefined)?.LogGroup?.Ref ?? "",
    );
    expect(new Set(groups).size).toBe(functions.length);
    for (const group of groups) {
      expect(json.Resources[group]?.Type).toBe("AWS::Logs::LogGroup");
      expect(props(json, group).RetentionInDays).toBe(30);
      expect(json.Resources[group]?.DeletionPolicy).toBe("Delete");
    }
  });

  describe("WHEN looking at the uploads bucket", () => {
    const bucket = () => json.Resources[logicalId(synth.stack.uploadsBucket)];

    it("THEN it blocks every kind of public access", () => {
      expect(bucket()?.Properties?.PublicAccessBlockConfiguration).toEqual({
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      });
    });

    it("THEN it encrypts objects at rest", () => {
      expect(bucket()?.Properties?.BucketEncryption).toEqual({
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: "AES256" } }],
      });
    });

    it("THEN its policy refuses requests without TLS", () => {
      synth.template.hasResourceProperties("AWS::S3::BucketPolicy", {
        Bucket: { Ref: logicalId(synth.stack.uploadsBucket) },
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: "Deny", Condition: { Bool: { "aws:SecureTransport": "false" } } }),
          ]),
        },
      });
    });

    it("THEN it is not versioned (renditions are rewritten in place on redelivery)", () => {
      expect(bucket()?.Properties?.VersioningConfiguration).toBeUndefined();
    });

    it("THEN incomplete multipart uploads are aborted after one day, and export files (never originals) expire after 7 days", () => {
      expect(bucket()?.Properties?.LifecycleConfiguration).toEqual({
        Rules: [
          {
            Id: "abort-incomplete-multipart-uploads",
            AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 },
            Status: "Enabled",
          },
          { Id: "expire-exports", Prefix: "exports/", ExpirationInDays: 7, Status: "Enabled" },
        ],
      });
    });

    it("GIVEN exportExpirationDays WHEN synthesized THEN export files expire after that many days; a fraction or 0 fails synth", () => {
      const withDays = (days: number) =>
        new CourierStack(appWithoutBundling(), "courier-export-expiry", {
          settings: TEST_SETTINGS,
          exportExpirationDays: days,
        });
      const rules = Template.fromStack(withDays(30)).findResources("AWS::S3::Bucket", {
        Properties: {
          LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Id: "expire-exports" })]) },
        },
      });
      const [uploads] = Object.values(rules);
      const lifecycle = uploads?.Properties?.LifecycleConfiguration as
        | { Rules: Array<{ Id: string; ExpirationInDays?: number }> }
        | undefined;
      expect(lifecycle?.Rules.find((r) => r.Id === "expire-exports")?.ExpirationInDays).toBe(30);
      expect(() => withDays(0)).toThrow(/exportExpirationDays must be a whole number/);
      expect(() => withDays(1.5)).toThrow(/exportExpirationDays must be a whole number/);
    });

    it("THEN deleting the stack keeps it and its originals", () => {
      expect(bucket()?.DeletionPolicy).toBe("Retain");
      expect(bucket()?.UpdateReplacePolicy).toBe("Retain");
    });
  });

  describe("WHEN looking at the idempotency table", () => {
    const table = () => props(json, logicalId(synth.idempotencyTable));

    it("THEN it is keyed by the string attribute id, as Powertools idempotency expects", () => {
      expect(table().KeySchema).toEqual([{ AttributeName: "id", KeyType: "HASH" }]);
      expect(table().AttributeDefinitions).toEqual([{ AttributeName: "id", AttributeType: "S" }]);
    });

    it("THEN records expire through TTL on the attribute expiration", () => {
      expect(table().TimeToLiveSpecification).toEqual({ AttributeName: "expiration", Enabled: true });
    });

    it("THEN it is on-demand, with point-in-time recovery and encryption at rest", () => {
      expect(table().BillingMode).toBe("PAY_PER_REQUEST");
      expect(table().PointInTimeRecoverySpecification).toEqual({ PointInTimeRecoveryEnabled: true });
      expect(table().SSESpecification).toEqual({ SSEEnabled: true });
    });
  });

  it("THEN its table name is in the manifest for the consumers' local run", () => {
    const manifest = parseJoinedJson(synth.json.Outputs?.CourierManifest?.Value) as Record<string, unknown>;
    expect(manifest.idempotencyTable).toEqual({ Ref: logicalId(synth.idempotencyTable) });
  });

  it("THEN there are exactly five alarms per consumer and per topic archive (DLQ, subscription DLQ, oldest age, errors, throttles), one per SMS cap, and one per consumer of a standard topic with tenants (quiet tenants' dwell)", () => {
    const caps = consumerNames.filter((name) => exampleNeeds[name].smsCap).length;
    expect(caps).toBe(1);
    const archives = topicNames.filter((t) => (topics[t] as TopicSpec).archive !== false).length;
    const tenantConsumers = consumerNames.filter((name) => {
      const topic = topics[consumers[name].topic] as { tenant?: unknown; ordering?: unknown };
      return topic.tenant !== undefined && topic.ordering === undefined;
    }).length;
    expect(tenantConsumers).toBe(2); // thumbnails, account-export
    expect(resourcesOfType(json, "AWS::CloudWatch::Alarm")).toHaveLength(
      5 * consumerNames.length + 5 * archives + caps + tenantConsumers,
    );
  });

  it("THEN the SMS cap's alarm watches verification-sms's SmsRateLimited metric and fires on the first refusal", () => {
    const alarms = resourcesOfType(json, "AWS::CloudWatch::Alarm")
      .map(([, alarm]) => alarm as unknown as { Properties: Record<string, unknown> })
      .filter((alarm) => alarm.Properties.MetricName === "SmsRateLimited");
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.Properties).toMatchObject({
      Namespace: "courier",
      Dimensions: [{ Name: "service", Value: "verification-sms" }],
      Statistic: "Sum",
      Threshold: 1,
      ComparisonOperator: "GreaterThanOrEqualToThreshold",
      TreatMissingData: "notBreaching",
    });
  });
});
