/**
 * Holds the synthesized template against src/topology.ts: every topic and consumer declared there
 * is rendered once, with its settings, and nothing else is. Failure modes covered: a setting written
 * twice and drifting, a consumer missing from the stack, a filter policy lost, outputs the local
 * runtime cannot read.
 */
import { Match } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { type ConsumerResources, consumerEnvironment } from "../../packages/courier/src/deployment/consumer-environment.ts";
import { topologyFromOutputs } from "../../packages/courier/src/deployment/deployed-topology.ts";
import { consumerOutputKey, topicOutputKey } from "../../packages/courier/src/deployment/stack-outputs.ts";
import {
  consumerNames,
  consumers,
  DLQ_RETENTION_DAYS,
  isOrderedTopic,
  redriveFunction,
  type TopicSpec,
  topicNames,
  topics,
} from "../../src/topology.ts";
import {
  arnOf,
  type CfnTemplate,
  logicalId,
  props,
  ref,
  resourcesOfType,
  type SynthesizedCourier,
  synthCourierStack,
  TEST_SETTINGS,
} from "./fixtures.ts";

const DAY = 24 * 60 * 60;

const COMMON_VARIABLES = [
  "NODE_OPTIONS",
  "COURIER_CONSUMER",
  "COURIER_QUEUE_URL",
  "COURIER_DLQ_URL",
  "POWERTOOLS_SERVICE_NAME",
  "POWERTOOLS_METRICS_NAMESPACE",
];
/** Each consumer's variables beyond the common ones, as they were before needs were data. */
const NEEDED_VARIABLES: Record<(typeof consumerNames)[number], string[]> = {
  "verification-email": ["IDEMPOTENCY_TABLE", "VERIFICATION_SECRET_ARN", "MAIL_FROM", "VERIFY_URL_BASE"],
  "verification-sms": ["IDEMPOTENCY_TABLE", "VERIFICATION_SECRET_ARN", "SMS_CAP"],
  "team-notify": ["IDEMPOTENCY_TABLE", "TEAM_WEBHOOK_URL"],
  thumbnails: ["UPLOADS_BUCKET"],
  "password-reset-email": ["IDEMPOTENCY_TABLE", "VERIFICATION_SECRET_ARN", "MAIL_FROM", "VERIFY_URL_BASE"],
  "security-audit": ["IDEMPOTENCY_TABLE", "AUDIT_TABLE"],
  // Its topic offloads large manifests: it reads them from the payload bucket.
  "account-export": ["UPLOADS_BUCKET", "COURIER_PAYLOAD_BUCKET"],
};

let synth: SynthesizedCourier;
let json: CfnTemplate;
beforeAll(() => {
  synth = synthCourierStack();
  json = synth.json;
});

const ids = (name: (typeof consumerNames)[number]) => {
  const queue = synth.stack.consumerQueues[name];
  const fn = synth.stack.consumerFunctions[name];
  return {
    queue: logicalId(queue.queue),
    dlq: logicalId(queue.deadLetterQueue),
    topic: logicalId(synth.stack.topics[consumers[name].topic].topic),
    fn: logicalId(fn.function),
    logGroup: logicalId(fn.logGroup),
  };
};

describe("GIVEN the topology declaration WHEN the stack is synthesized", () => {
  it("THEN there is exactly one SNS topic per declared topic, plus the alarm topic", () => {
    expect(resourcesOfType(json, "AWS::SNS::Topic")).toHaveLength(topicNames.length + 1);
  });

  it("THEN there is one source queue, one DLQ and one subscription DLQ per consumer, and no other queue", () => {
    expect(resourcesOfType(json, "AWS::SQS::Queue")).toHaveLength(3 * consumerNames.length);
  });

  it("THEN there is one subscription per consumer and no other", () => {
    expect(resourcesOfType(json, "AWS::SNS::Subscription")).toHaveLength(consumerNames.length);
  });

  it("THEN there is one function per consumer plus the redrive function, and nothing hidden (no provider functions)", () => {
    expect(resourcesOfType(json, "AWS::Lambda::Function")).toHaveLength(consumerNames.length + 1);
  });

  describe.each(consumerNames)("THEN consumer %s", (name) => {
    const spec = consumers[name];

    const ordered = isOrderedTopic(spec.topic);

    it("subscribes its queue to its own topic (raw delivery unless FIFO) with exactly its filter policy", () => {
      const { queue, topic } = ids(name);
      const subscriptions = resourcesOfType(json, "AWS::SNS::Subscription").filter(
        ([, s]) => JSON.stringify(s.Properties?.Endpoint) === JSON.stringify(arnOf(queue)),
      );
      expect(subscriptions).toHaveLength(1);
      const subscription = subscriptions[0]?.[1].Properties ?? {};
      expect(subscription.TopicArn).toEqual(ref(topic));
      expect(subscription.Protocol).toBe("sqs");
      // A FIFO subscription keeps the SNS envelope: it carries the topic's sequence number.
      expect(subscription.RawMessageDelivery).toBe(!ordered);
      const filter = "filterPolicy" in spec ? spec.filterPolicy : undefined;
      expect(subscription.FilterPolicy).toEqual(filter);
    });

    it("has the visibility timeout and retention of its declaration", () => {
      const queue = props(json, ids(name).queue);
      expect(queue.VisibilityTimeout).toBe(spec.visibilityTimeoutSeconds);
      expect(queue.MessageRetentionPeriod).toBe(spec.retentionDays * DAY);
    });

    it("moves a message to its DLQ after maxReceiveCount receives", () => {
      const { queue, dlq } = ids(name);
      expect(props(json, queue).RedrivePolicy).toEqual({
        deadLetterTargetArn: arnOf(dlq),
        maxReceiveCount: spec.maxReceiveCount,
      });
    });

    it("keeps DLQ messages 14 days and lets only its source queue redrive into it", () => {
      const { dlq } = ids(name);
      const queueName = props(json, ids(name).queue).QueueName as string;
      const dlqProps = props(json, dlq);
      expect(dlqProps.MessageRetentionPeriod).toBe(DLQ_RETENTION_DAYS * DAY);
      const allow = dlqProps.RedriveAllowPolicy as { redrivePermission: string; sourceQueueArns: unknown[] };
      expect(allow.redrivePermission).toBe("byQueue");
      expect(allow.sourceQueueArns).toHaveLength(1);
      expect(JSON.stringify(allow.sourceQueueArns[0])).toContain(`:${queueName}"`);
    });

    it("runs Node.js 24 on ARM64 with the declared memory and timeout and its own log group", () => {
      const { fn, logGroup } = ids(name);
      const fnProps = props(json, fn);
      expect(fnProps.Runtime).toBe("nodejs24.x");
      expect(fnProps.Architectures).toEqual(["arm64"]);
      expect(fnProps.MemorySize).toBe(spec.memoryMb);
      expect(fnProps.Timeout).toBe(spec.timeoutSeconds);
      expect(fnProps.LoggingConfig).toEqual({ LogGroup: ref(logGroup) });
      expect(props(json, logGroup).RetentionInDays).toBeGreaterThan(0);
    });

    it("reads its queue through an event source with partial batch responses and the declared batch settings", () => {
      const { queue, fn } = ids(name);
      synth.template.resourcePropertiesCountIs(
        "AWS::Lambda::EventSourceMapping",
        {
          EventSourceArn: arnOf(queue),
          FunctionName: ref(fn),
          BatchSize: spec.batchSize,
          // Lambda's FIFO event source takes no batching window at all.
          MaximumBatchingWindowInSeconds: ordered ? Match.absent() : spec.maxBatchingWindowSeconds,
          ScalingConfig: { MaximumConcurrency: spec.maxConcurrency },
          FunctionResponseTypes: ["ReportBatchItemFailures"],
        },
        1,
      );
    });

    it("gets exactly the environment consumerEnvironment() gives it, with this stack's addresses", () => {
      const { queue, dlq, fn } = ids(name);
      // The payload bucket only for a consumer of an offloading topic, as the stack gives it.
      const offloads = (topics[consumers[name].topic] as TopicSpec).offloadLargePayloads === true;
      const sentinels: ConsumerResources = {
        queueUrl: "@queueUrl",
        dlqUrl: "@dlqUrl",
        secretArns: { verification: "@secret" },
        uploadsBucket: "@bucket",
        idempotencyTable: "@table",
        auditTable: "@audit",
        ...(offloads ? { payloadBucket: "@payloads" } : {}),
      };
      const addresses: Record<string, unknown> = {
        "@queueUrl": ref(queue),
        "@dlqUrl": ref(dlq),
        "@secret": ref(logicalId(synth.stack.secret("verification"))),
        "@bucket": ref(logicalId(synth.stack.uploadsBucket)),
        "@table": ref(logicalId(synth.stack.idempotencyTable)),
        "@audit": ref(logicalId(synth.stack.auditTable)),
        "@payloads": ref(logicalId(synth.stack.payloadBucket?.bucket as never)),
      };
      const declared = consumerEnvironment(name, sentinels, TEST_SETTINGS);
      const expected = Object.fromEntries(Object.entries(declared).map(([k, v]) => [k, addresses[v] ?? v]));
      const variables = (props(json, fn).Environment as { Variables: Record<string, unknown> }).Variables;
      const { NODE_OPTIONS, ...rest } = variables;
      expect(rest).toEqual(expected);
      expect(NODE_OPTIONS).toBe("--enable-source-maps");
    });

    it("gets the variables its needs call for and no other (pinned: the needs must not change what a function sees)", () => {
      const variables = (props(json, ids(name).fn).Environment as { Variables: Record<string, unknown> })
        .Variables;
      expect(Object.keys(variables).sort()).toEqual([...COMMON_VARIABLES, ...NEEDED_VARIABLES[name]].sort());
    });

    it("alarms when its DLQ holds any message", () => {
      synth.template.resourcePropertiesCountIs(
        "AWS::CloudWatch::Alarm",
        {
          Namespace: "AWS/SQS",
          MetricName: "ApproximateNumberOfMessagesVisible",
          Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [ids(name).dlq, "QueueName"] } }],
          Threshold: 0,
          ComparisonOperator: "GreaterThanThreshold",
        },
        1,
      );
    });

    it("alarms when its oldest message is older than the declared threshold", () => {
      synth.template.resourcePropertiesCountIs(
        "AWS::CloudWatch::Alarm",
        {
          Namespace: "AWS/SQS",
          MetricName: "ApproximateAgeOfOldestMessage",
          Dimensions: [{ Name: "QueueName", Value: { "Fn::GetAtt": [ids(name).queue, "QueueName"] } }],
          Threshold: spec.oldestMessageAlarmSeconds,
          ComparisonOperator: "GreaterThanThreshold",
        },
        1,
      );
    });

    it("outputs its queue and DLQ URL and ARN under the names src/stack-outputs.ts gives", () => {
      const { queue, dlq } = ids(name);
      synth.template.hasOutput(consumerOutputKey(name, "QueueUrl"), { Value: ref(queue) });
      synth.template.hasOutput(consumerOutputKey(name, "QueueArn"), { Value: arnOf(queue) });
      synth.template.hasOutput(consumerOutputKey(name, "DlqUrl"), { Value: ref(dlq) });
      synth.template.hasOutput(consumerOutputKey(name, "DlqArn"), { Value: arnOf(dlq) });
    });

    it("is a FIFO queue with a FIFO DLQ exactly when its topic is a FIFO topic", () => {
      const { queue, dlq, topic } = ids(name);
      expect(props(json, topic).FifoTopic).toBe(ordered ? true : undefined);
      expect(props(json, queue).FifoQueue).toBe(ordered ? true : undefined);
      expect(props(json, dlq).FifoQueue).toBe(ordered ? true : undefined);
      if (ordered) {
        expect(props(json, queue).QueueName).toMatch(/\.fifo$/);
        expect(props(json, dlq).QueueName).toMatch(/-dlq\.fifo$/);
        expect(props(json, queue).DeduplicationScope).toBe("messageGroup");
      }
    });
  });

  it.each(topicNames)("THEN topic %s's ARN is an output", (name) => {
    synth.template.hasOutput(topicOutputKey(name, "TopicArn"), {
      Value: ref(logicalId(synth.stack.topics[name].topic)),
    });
  });

  it("THEN topologyFromOutputs() reads every address from the stack's outputs", () => {
    const outputs = Object.fromEntries(
      Object.keys(json.Outputs ?? {}).map((key) => [key, `value-of-${key}`]),
    );
    const deployed = topologyFromOutputs("courier-test", outputs);
    expect(deployed.idempotencyTable).toBe("value-of-IdempotencyTableName");
    expect(deployed.auditTable).toBe("value-of-AuditTableName");
    expect(deployed.uploadsBucket).toBe("value-of-UploadsBucketName");
    expect(deployed.verificationSecretArn).toBe("value-of-VerificationSecretArn");
    // account-exports offloads: the stack outputs the payload bucket and the reader picks it up.
    expect(deployed.payloadBucket).toBe("value-of-PayloadBucketName");
  });

  it("THEN the redrive function has the declared memory and timeout on Node.js 24 ARM64", () => {
    synth.template.hasResourceProperties("AWS::Lambda::Function", {
      Runtime: "nodejs24.x",
      Architectures: ["arm64"],
      MemorySize: redriveFunction.memoryMb,
      Timeout: redriveFunction.timeoutSeconds,
      Environment: { Variables: Match.objectLike({ COURIER_REDRIVE_PAIRS: Match.anyValue() }) },
    });
  });
});
