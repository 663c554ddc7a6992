/**
 * Holds the synthesized template against src/topology.ts: every topic and consumer declared there
 * is rendered once, with its settings, and nothing else is. Failure modes covered: a setting written
 * twice and drifting, a consumer missing from the stack, a filter policy lost, outputs the local
 * runtime cannot read.
 */
import { Match } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { OTEL_LAMBDA_ENVIRONMENT } from "../../packages/courier/src/cdk/index.ts";
import {
  type ConsumerResources,
  consumerEnvironment,
} from "../../packages/courier/src/deployment/consumer-environment.ts";
import { topologyFromOutputs } from "../../packages/courier/src/deployment/deployed-topology.ts";
import {
  consumerManifestOutputKey,
  STACK_MANIFEST_OUTPUT,
  topicManifestOutputKey,
} from "../../packages/courier/src/deployment/manifest.ts";
import { isOrderedTopic, type TopicSpec } from "../../packages/courier/src/topology/topology.ts";
import { DLQ_RETENTION_DAYS } from "../../packages/courier/src/topology/topology-problems.ts";
import { consumerNames, consumers, topicNames, topics } from "../../src/topology.ts";
import {
  arnOf,
  type CfnTemplate,
  fakeOutputs,
  logicalId,
  parseJoinedJson,
  props,
  ref,
  resourcesOfType,
  type SynthesizedCourier,
  synthCourierStack,
} from "./fixtures.ts";

const DAY = 24 * 60 * 60;

/** The function's variables less those `tracing: "otel"` adds (held exactly in tracing.test.ts). */
function withoutTracingVariables(variables: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(variables).filter(([key]) => !(key in OTEL_LAMBDA_ENVIRONMENT)));
}
/** aws-cdk-lib 2.278 knows nodejs26.x; cdk-nag's L1 wants the newest. */
const NEWEST_RUNTIME = "nodejs26.x";

const COMMON_VARIABLES = [
  "NODE_OPTIONS",
  "COURIER_CONSUMER",
  "COURIER_QUEUE_URL",
  "COURIER_DLQ_URL",
  "POWERTOOLS_SERVICE_NAME",
  "POWERTOOLS_METRICS_NAMESPACE",
];
/** The variables the example's stack adds to each (its needs beyond the construct's). */
const EXAMPLE_VARIABLES: Record<(typeof consumerNames)[number], string[]> = {
  "verification-email": ["MAIL_FROM", "VERIFY_URL_BASE"],
  "verification-sms": ["SMS_CAP"],
  "team-notify": ["TEAM_WEBHOOK_URL"],
  thumbnails: ["UPLOADS_BUCKET"],
  "password-reset-email": ["MAIL_FROM", "VERIFY_URL_BASE"],
  "security-audit": ["AUDIT_TABLE"],
  "account-export": ["UPLOADS_BUCKET"],
};
/** Each consumer's variables beyond the common ones, pinned: the needs must not change what a function sees. */
const NEEDED_VARIABLES: Record<(typeof consumerNames)[number], string[]> = {
  "verification-email": [
    "IDEMPOTENCY_TABLE",
    "VERIFICATION_SECRET_ARN",
    ...EXAMPLE_VARIABLES["verification-email"],
  ],
  "verification-sms": [
    "IDEMPOTENCY_TABLE",
    "VERIFICATION_SECRET_ARN",
    ...EXAMPLE_VARIABLES["verification-sms"],
  ],
  "team-notify": ["IDEMPOTENCY_TABLE", ...EXAMPLE_VARIABLES["team-notify"]],
  thumbnails: EXAMPLE_VARIABLES.thumbnails,
  "password-reset-email": [
    "IDEMPOTENCY_TABLE",
    "VERIFICATION_SECRET_ARN",
    ...EXAMPLE_VARIABLES["password-reset-email"],
  ],
  "security-audit": ["IDEMPOTENCY_TABLE", ...EXAMPLE_VARIABLES["security-audit"]],
  // Its topic offloads large manifests: it reads them from the payload bucket's locations.
  "account-export": ["COURIER_PAYLOAD_LOCATIONS", ...EXAMPLE_VARIABLES["account-export"]],
};

let synth: SynthesizedCourier;
let json: CfnTemplate;
beforeAll(() => {
  synth = synthCourierStack();
  json = synth.json;
});

const ids = (name: (typeof consumerNames)[number]) => {
  const queue = synth.courier.consumerQueues[name];
  const fn = synth.courier.consumerFunctions[name];
  return {
    queue: logicalId(queue.queue),
    dlq: logicalId(queue.deadLetterQueue),
    topic: logicalId(synth.courier.topics[consumers[name].topic].topic),
    fn: logicalId(fn.function),
    logGroup: logicalId(fn.logGroup),
  };
};

describe("GIVEN the topology declaration WHEN the stack is synthesized", () => {
  it("THEN there is exactly one SNS topic per declared topic, plus the alarm topic", () => {
    expect(resourcesOfType(json, "AWS::SNS::Topic")).toHaveLength(topicNames.length + 1);
  });

  // Every example topic keeps an archive: a queue, DLQs, subscription and archiver of its own.
  const archives = () => topicNames.filter((t) => (topics[t] as TopicSpec).archive !== false).length;

  it("THEN there is one source queue, one DLQ and one subscription DLQ per consumer and per topic archive, and no other queue", () => {
    expect(archives()).toBe(topicNames.length);
    expect(resourcesOfType(json, "AWS::SQS::Queue")).toHaveLength(3 * (consumerNames.length + archives()));
  });

  it("THEN there is one subscription per consumer and per topic archive, and no other", () => {
    expect(resourcesOfType(json, "AWS::SNS::Subscription")).toHaveLength(consumerNames.length + archives());
  });

  it("THEN there is one function per consumer, one archiver per archived topic, plus the redrive function, and nothing hidden (no provider functions)", () => {
    expect(resourcesOfType(json, "AWS::Lambda::Function")).toHaveLength(
      consumerNames.length + archives() + 1,
    );
  });

  describe.each(consumerNames)("THEN consumer %s", (name) => {
    const spec = consumers[name];

    const ordered = isOrderedTopic(topics[spec.topic] as TopicSpec);

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

    it("runs the newest Node.js runtime on ARM64 with the declared memory and timeout and its own log group", () => {
      const { fn, logGroup } = ids(name);
      const fnProps = props(json, fn);
      expect(fnProps.Runtime).toBe(NEWEST_RUNTIME);
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

    it("gets exactly the environment consumerEnvironment() gives it, with this stack's addresses, plus the example's variables", () => {
      const { queue, dlq, fn } = ids(name);
      // Payload locations only for a consumer of an offloading topic, as the construct gives them.
      const offloads = (topics[consumers[name].topic] as TopicSpec).offloadLargePayloads === true;
      const sentinels: ConsumerResources = {
        queueUrl: "@queueUrl",
        dlqUrl: "@dlqUrl",
        secretArns: { verification: "@secret" },
        idempotencyTable: "@table",
        ...(offloads
          ? { payloadLocations: [{ bucket: "@payloads", prefix: `${consumers[name].topic}/` }] }
          : {}),
      };
      const addresses: Record<string, unknown> = {
        "@queueUrl": ref(queue),
        "@dlqUrl": ref(dlq),
        "@secret": ref(logicalId(synth.courier.secret("verification"))),
        "@table": ref(logicalId(synth.idempotencyTable)),
      };
      const declared = consumerEnvironment(consumers[name], sentinels);
      const expected = Object.fromEntries(Object.entries(declared).map(([k, v]) => [k, addresses[v] ?? v]));
      const variables = (props(json, fn).Environment as { Variables: Record<string, unknown> }).Variables;
      const { NODE_OPTIONS, COURIER_PAYLOAD_LOCATIONS, ...rest } = withoutTracingVariables(variables);
      const { COURIER_PAYLOAD_LOCATIONS: expectedLocations, ...expectedRest } = expected;
      for (const example of EXAMPLE_VARIABLES[name]) delete rest[example];
      expect(rest).toEqual(expectedRest);
      expect(NODE_OPTIONS).toBe("--enable-source-maps");
      if (offloads) {
        expect(expectedLocations).toBeDefined();
        expect(parseJoinedJson(COURIER_PAYLOAD_LOCATIONS)).toEqual([
          { bucket: ref(logicalId(synth.payloadBucket.bucket)), prefix: `${consumers[name].topic}/` },
        ]);
      } else {
        expect(COURIER_PAYLOAD_LOCATIONS).toBeUndefined();
      }
    });

    it("gets the variables its needs call for and no other (pinned: the needs must not change what a function sees)", () => {
      const variables = (props(json, ids(name).fn).Environment as { Variables: Record<string, unknown> })
        .Variables;
      expect(Object.keys(variables).sort()).toEqual(
        [...COMMON_VARIABLES, ...Object.keys(OTEL_LAMBDA_ENVIRONMENT), ...NEEDED_VARIABLES[name]].sort(),
      );
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

    it("is in the manifest: its queue, DLQ and subscription DLQ addresses, function, mapping and settings", () => {
      const { queue, dlq, fn } = ids(name);
      const subscriptionDlq = logicalId(synth.courier.consumerQueues[name].subscriptionDeadLetterQueue);
      const manifest = parseJoinedJson(json.Outputs?.[consumerManifestOutputKey(name)]?.Value) as Record<
        string,
        unknown
      >;
      expect(manifest).toMatchObject({
        name,
        topic: spec.topic,
        handlerEntry: spec.handlerEntry,
        queueUrl: ref(queue),
        queueArn: arnOf(queue),
        dlqUrl: ref(dlq),
        dlqArn: arnOf(dlq),
        subscriptionDlqUrl: ref(subscriptionDlq),
        subscriptionDlqArn: arnOf(subscriptionDlq),
        functionName: ref(fn),
        eventSourceMappingId: ref(
          resourcesOfType(json, "AWS::Lambda::EventSourceMapping").find(
            ([, m]) => JSON.stringify(m.Properties?.FunctionName) === JSON.stringify(ref(fn)),
          )?.[0] ?? "none",
        ),
        fifo: ordered,
        maxReceiveCount: spec.maxReceiveCount,
        batchSize: spec.batchSize,
        maxConcurrency: spec.maxConcurrency,
        visibilityTimeoutSeconds: spec.visibilityTimeoutSeconds,
      });
      // The environment as synthesized, the example's own variables (added after the construct) too.
      const variables = (props(json, fn).Environment as { Variables: Record<string, unknown> }).Variables;
      const { NODE_OPTIONS: _, ...functionVariables } = withoutTracingVariables(variables);
      const inManifest = manifest.environment as Record<string, unknown>;
      expect(Object.keys(inManifest).sort()).toEqual(Object.keys(functionVariables).sort());
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

  it.each(topicNames)("THEN topic %s is in the manifest with its ARN and contracts", (name) => {
    const manifest = parseJoinedJson(json.Outputs?.[topicManifestOutputKey(name)]?.Value);
    const spec = topics[name] as TopicSpec;
    expect(manifest).toMatchObject({
      name,
      arn: ref(logicalId(synth.courier.topics[name].topic)),
      fifo: isOrderedTopic(spec),
      current: { type: spec.current.type, version: spec.current.version },
    });
  });

  it("THEN topologyFromOutputs() reads every address from the stack's outputs", () => {
    const deployed = topologyFromOutputs("courier-test", fakeOutputs(json));
    expect(deployed.idempotencyTable).toBe(`ref:${logicalId(synth.idempotencyTable)}`);
    // account-exports offloads: the manifest names the payload bucket and the reader picks it up.
    expect(deployed.payloadBucket).toBe(`ref:${logicalId(synth.payloadBucket.bucket)}`);
    expect(deployed.secretArns.verification).toBe(`ref:${logicalId(synth.courier.secret("verification"))}`);
    expect(Object.keys(deployed.consumers).sort()).toEqual([...consumerNames].sort());
    expect(Object.keys(deployed.topics).sort()).toEqual([...topicNames].sort());
    expect(deployed.manifest.redrive.maxRedrives).toBe(3);
    // The example's own outputs, beside the manifest.
    expect(deployed.outputs.AuditTableName).toBe(`ref:${logicalId(synth.stack.auditTable)}`);
    expect(deployed.outputs.UploadsBucketName).toBe(`ref:${logicalId(synth.stack.uploadsBucket)}`);
    expect(json.Outputs?.[STACK_MANIFEST_OUTPUT]).toBeDefined();
  });

  it("THEN the redrive function has 512 MB and 15 minutes on the newest Node.js runtime on ARM64", () => {
    synth.template.hasResourceProperties("AWS::Lambda::Function", {
      Runtime: NEWEST_RUNTIME,
      Architectures: ["arm64"],
      MemorySize: 512,
      Timeout: 900,
      Environment: { Variables: Match.objectLike({ COURIER_REDRIVE_PAIRS: Match.anyValue() }) },
    });
  });
});
