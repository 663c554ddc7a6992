/**
 * Adding a consumer is one topology entry: this file declares `audit-log` (on account-signups, with
 * needs of its own: a new secret and the idempotency table from the construct, a setting and a
 * write-only bucket prefix from the example's stack) and a handler, hands them to the stack, and finds its queue, DLQ, subscription, function,
 * grants, environment, outputs, redrive pair and cdk-nag acknowledgements, with no other file
 * naming it. Failure modes covered: wiring that still needs a per-consumer edit in cdk/ or
 * src/deployment (a switch, a name check, a hand-written acknowledgement); a need granted wider
 * than declared; a new consumer's grants leaking into another's role; a faulty entry rendered
 * instead of refused at synth time.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { CourierStack } from "../../cdk/stacks/courier-stack.ts";
import type { Courier } from "../../packages/courier/src/cdk/courier.ts";
import { OTEL_LAMBDA_ENVIRONMENT } from "../../packages/courier/src/cdk/index.ts";
import type { ConsumerSpec, TopologySpec } from "../../packages/courier/src/topology/topology.ts";
import type { ExampleNeeds } from "../../src/app/deployment/example-needs.ts";
import {
  type ConsumerName,
  consumers,
  courierTopology,
  exampleNeeds,
  type TopicName,
  topics,
} from "../../src/topology.ts";
import {
  actionsOf,
  appWithoutBundling,
  arnOf,
  type CfnTemplate,
  isXrayWriteStatement,
  logicalId,
  nagFindings,
  type PolicyStatement,
  parseJoinedJson,
  props,
  ref,
  resourcesOf,
  resourcesOfType,
  roleStatements,
  TEST_SETTINGS,
} from "./fixtures.ts";

const DAY = 24 * 60 * 60;

/** The entry as the topology declares it: the package's generic needs only. */
const auditLog = {
  name: "audit-log",
  description: "Appends a signed record of each sign-up to the audit prefix of the uploads bucket.",
  topic: "account-signups",
  handlerEntry: "test/cdk/handlers/audit-log.ts",
  maxReceiveCount: 3,
  batchSize: 8,
  maxBatchingWindowSeconds: 5,
  maxConcurrency: 3,
  timeoutSeconds: 20,
  memoryMb: 512,
  visibilityTimeoutSeconds: 120,
  backoff: { baseSeconds: 1, maxSeconds: 60 },
  retentionDays: 7,
  oldestMessageAlarmSeconds: 600,
  needs: { secrets: ["audit-signing"], idempotencyTable: true },
} as const satisfies ConsumerSpec;

/** What the example's stack grants it besides: a setting and a write-only bucket prefix. */
const auditLogNeeds: ExampleNeeds = { settings: ["teamWebhookUrl"], uploads: { write: ["audit/"] } };

type WithAudit = ConsumerName | "audit-log";

function topologyWith(entry: ConsumerSpec<string>): TopologySpec<TopicName, WithAudit> {
  return {
    topics,
    consumers: { ...consumers, "audit-log": entry as ConsumerSpec<TopicName> },
    secrets: {
      ...courierTopology.secrets,
      "audit-signing": {
        description: "HMAC key that signs audit records",
        length: 48,
        manualRotationReason:
          "Signs audit records that are verified later: rotating it would need the old key kept for verification, so it is rotated by hand.",
      },
    },
  };
}

const build = (app = appWithoutBundling()) =>
  new CourierStack(app, "courier-extra", {
    settings: TEST_SETTINGS,
    topology: topologyWith(auditLog),
    needs: { ...exampleNeeds, "audit-log": auditLogNeeds },
  });

let stack: CourierStack;
let courier: Courier<TopicName, WithAudit>;
let json: CfnTemplate;
beforeAll(() => {
  stack = build();
  courier = stack.courier as unknown as Courier<TopicName, WithAudit>;
  json = Template.fromStack(stack).toJSON() as CfnTemplate;
});

const text = (value: unknown) => JSON.stringify(value);
const roleIdOf = (name: WithAudit) =>
  logicalId(courier.consumerFunctions[name].function.role as Parameters<typeof logicalId>[0]);
/** Allow statements, X-Ray's segment writes aside (held exactly in tracing.test.ts). */
const allows = (name: WithAudit) =>
  roleStatements(json, roleIdOf(name)).filter((s) => s.Effect === "Allow" && !isXrayWriteStatement(s));
const ids = () => ({
  queue: logicalId(courier.consumerQueues["audit-log"].queue),
  dlq: logicalId(courier.consumerQueues["audit-log"].deadLetterQueue),
  key: logicalId(courier.consumerQueues["audit-log"].encryptionKey),
  fn: logicalId(courier.consumerFunctions["audit-log"].function),
  logGroup: logicalId(courier.consumerFunctions["audit-log"].logGroup),
  secret: logicalId(courier.secret("audit-signing")),
  bucket: logicalId(stack.uploadsBucket),
  table: logicalId(courier.idempotencyTable as NonNullable<typeof courier.idempotencyTable>),
});

describe("GIVEN the topology with one more entry, audit-log, WHEN the stack is synthesized", () => {
  it("THEN audit-log has a source queue with its declared visibility, retention and redrive to its own DLQ", () => {
    const { queue, dlq } = ids();
    const queueProps = props(json, queue);
    expect(queueProps.VisibilityTimeout).toBe(120);
    expect(queueProps.MessageRetentionPeriod).toBe(7 * DAY);
    expect(queueProps.RedrivePolicy).toEqual({ deadLetterTargetArn: arnOf(dlq), maxReceiveCount: 3 });
    expect(props(json, dlq).MessageRetentionPeriod).toBe(14 * DAY);
    const subscriptionDlq = logicalId(courier.consumerQueues["audit-log"].subscriptionDeadLetterQueue);
    expect(json.Resources[subscriptionDlq]?.Type).toBe("AWS::SQS::Queue");
  });

  it("THEN its queue is subscribed to account-signups with raw delivery and no filter", () => {
    const subscriptions = resourcesOfType(json, "AWS::SNS::Subscription").filter(
      ([, s]) => text(s.Properties?.Endpoint) === text(arnOf(ids().queue)),
    );
    expect(subscriptions).toHaveLength(1);
    const subscription = subscriptions[0]?.[1].Properties ?? {};
    expect(subscription.TopicArn).toEqual(ref(logicalId(courier.topics["account-signups"].topic)));
    expect(subscription.RawMessageDelivery).toBe(true);
    expect(subscription.FilterPolicy).toBeUndefined();
    const subscriptionDlq = logicalId(courier.consumerQueues["audit-log"].subscriptionDeadLetterQueue);
    expect(subscription.RedrivePolicy).toEqual({ deadLetterTargetArn: arnOf(subscriptionDlq) });
  });

  it("THEN its function has the declared memory and timeout and reads its queue with the declared batch settings", () => {
    const { fn, queue } = ids();
    expect(props(json, fn)).toMatchObject({ MemorySize: 512, Timeout: 20 });
    const mappings = resourcesOfType(json, "AWS::Lambda::EventSourceMapping").filter(
      ([, m]) => text(m.Properties?.FunctionName) === text(ref(fn)),
    );
    expect(mappings.map(([, m]) => m.Properties)).toEqual([
      expect.objectContaining({
        EventSourceArn: arnOf(queue),
        BatchSize: 8,
        MaximumBatchingWindowInSeconds: 5,
        ScalingConfig: { MaximumConcurrency: 3 },
        FunctionResponseTypes: ["ReportBatchItemFailures"],
      }),
    ]);
  });

  it("THEN its environment holds exactly what its needs call for: its queues, table, secret ARN, setting and bucket", () => {
    const { queue, dlq, fn, secret, bucket, table } = ids();
    const variables = (props(json, fn).Environment as { Variables: Record<string, unknown> }).Variables;
    expect(variables).toEqual({
      NODE_OPTIONS: "--enable-source-maps",
      ...OTEL_LAMBDA_ENVIRONMENT,
      COURIER_CONSUMER: "audit-log",
      COURIER_QUEUE_URL: ref(queue),
      COURIER_DLQ_URL: ref(dlq),
      POWERTOOLS_SERVICE_NAME: "audit-log",
      POWERTOOLS_METRICS_NAMESPACE: "courier",
      IDEMPOTENCY_TABLE: ref(table),
      AUDIT_SIGNING_SECRET_ARN: ref(secret),
      TEAM_WEBHOOK_URL: TEST_SETTINGS.teamWebhookUrl,
      UPLOADS_BUCKET: ref(bucket),
    });
  });

  it("THEN every Allow of its role names only its queues, key, log group, table, secret and bucket prefix", () => {
    const { queue, dlq, key, logGroup, secret, bucket, table } = ids();
    const owned = [
      arnOf(queue),
      arnOf(dlq),
      arnOf(key),
      arnOf(logGroup),
      arnOf(table),
      ref(secret),
      arnOf(bucket),
      { "Fn::Join": ["", [arnOf(bucket), "/audit/*"]] },
    ].map(text);
    const foreign = allows("audit-log").flatMap((s) =>
      resourcesOf(s)
        .filter((r) => !owned.includes(text(r)))
        .map((r) => `${text(s.Action)} on ${text(r)}`),
    );
    expect(foreign).toEqual([]);
    const services = new Set(
      allows("audit-log")
        .flatMap(actionsOf)
        .map((a) => a.split(":")[0]),
    );
    expect([...services].sort()).toEqual(["dynamodb", "kms", "logs", "s3", "secretsmanager", "sqs"]);
  });

  it("THEN its bucket rights are write-only on audit/* (a write need grants no read)", () => {
    const s3 = allows("audit-log").filter((s) => actionsOf(s).some((a) => a.startsWith("s3:")));
    const actions = s3.flatMap(actionsOf);
    expect(actions).toContain("s3:PutObject");
    expect(
      actions.filter((a) => a.startsWith("s3:Get") || a.startsWith("s3:List") || a.startsWith("s3:Delete")),
    ).toEqual([]);
    expect(s3.flatMap(resourcesOf).map(text)).toEqual([
      text({ "Fn::Join": ["", [arnOf(ids().bucket), "/audit/*"]] }),
    ]);
  });

  it("THEN no other role may read its secret or touch its prefix, and it may not read the verification secret", () => {
    const others = (Object.keys(courier.topology.consumers) as WithAudit[]).filter((n) => n !== "audit-log");
    const elsewhere = others.flatMap((name) =>
      allows(name)
        .flatMap(resourcesOf)
        .map(text)
        .filter((r) => r.includes(ids().secret) || r.includes("/audit/"))
        .map((r) => `${name}: ${r}`),
    );
    expect(elsewhere).toEqual([]);
    const verification = logicalId(courier.secret("verification"));
    expect(
      allows("audit-log")
        .flatMap(resourcesOf)
        .map(text)
        .filter((r) => r.includes(verification)),
    ).toEqual([]);
  });

  it("THEN its queue, DLQ and secret are in the manifest outputs", () => {
    const outputs = json.Outputs ?? {};
    const consumer = parseJoinedJson(outputs.CourierConsumerAuditLog?.Value) as Record<string, unknown>;
    expect(consumer.queueUrl).toEqual(ref(ids().queue));
    expect(consumer.dlqArn).toEqual(arnOf(ids().dlq));
    const manifest = parseJoinedJson(outputs.CourierManifest?.Value) as {
      consumers: string[];
      secrets: object;
    };
    expect(manifest.consumers).toContain("audit-log");
    expect(manifest.secrets).toMatchObject({ "audit-signing": ref(ids().secret) });
  });

  it("THEN the redrive function may move its DLQ back to its queue", () => {
    const redrive = props(json, logicalId(courier.redrive.function));
    expect(text(redrive.Environment)).toContain('\\"audit-log\\":');
    const redriveRole = logicalId(courier.redrive.function.role as Parameters<typeof logicalId>[0]);
    const sends = roleStatements(json, redriveRole)
      .filter((s: PolicyStatement) => actionsOf(s).includes("sqs:SendMessage"))
      .flatMap(resourcesOf)
      .map(text);
    expect(sends).toContain(text(arnOf(ids().queue)));
  });
});

describe("GIVEN the stack with audit-log under cdk-nag's AwsSolutions pack", () => {
  it("WHEN synthesized with the derived acknowledgements THEN no finding is left, and without them its role has findings", () => {
    const acknowledged = nagFindings((app) => build(app), true).findings;
    expect(acknowledged.map((f) => `${f.severity} ${f.rule} at ${f.path}`)).toEqual([]);
    const raw = nagFindings((app) => build(app), false).findings;
    expect(
      raw.filter((f) => f.path.startsWith("courier-extra/Courier/AuditLogConsumer/")).map((f) => f.rule),
    ).toEqual(expect.arrayContaining(["AwsSolutions-IAM5[Action::s3:Abort*]"]));
  });
});

describe("GIVEN the source tree", () => {
  const root = fileURLToPath(new URL("../../", import.meta.url));
  const files = (dir: string): string[] =>
    readdirSync(join(root, dir)).flatMap((name) => {
      const path = join(dir, name);
      return statSync(join(root, path)).isDirectory() ? files(path) : [path];
    });

  it("WHEN cdk/, src/ and lambdas/ are searched for audit-log THEN no file names it: the entry above is all it took", () => {
    const naming = ["cdk", "src", "lambdas"]
      .flatMap(files)
      .filter((path) => readFileSync(join(root, path), "utf8").includes("audit-log"));
    expect(naming).toEqual([]);
  });
});

describe("GIVEN a topology entry with a mistake WHEN the stack is built", () => {
  const attempt =
    (entry: Record<string, unknown>, needs: ExampleNeeds = auditLogNeeds) =>
    () =>
      new CourierStack(appWithoutBundling(), "courier", {
        settings: TEST_SETTINGS,
        topology: topologyWith({ ...auditLog, ...entry } as unknown as ConsumerSpec<string>),
        needs: { ...exampleNeeds, "audit-log": needs },
      });

  it.each([
    [
      "a topic the topology does not declare",
      { topic: "order-events" },
      undefined,
      /courier\/Courier\/topology: consumer "audit-log" subscribes to topic "order-events", which the topology does not declare \(topics: account-signups, image-uploads, password-resets, account-exports\)/,
    ],
    [
      "a secret the topology does not declare",
      { needs: { secrets: ["audit-key"] } },
      undefined,
      /consumer "audit-log" needs secret "audit-key", which the topology does not declare \(secrets: verification, audit-signing\)/,
    ],
    [
      "a setting that is not a deploy setting",
      {},
      { settings: ["slackToken"] },
      /consumer "audit-log" needs setting "slackToken", which is not a deploy setting \(settings: mailFrom, verifyUrlBase, teamWebhookUrl\)/,
    ],
    [
      "a bucket prefix with a wildcard",
      {},
      { uploads: { write: ["audit/*"] } },
      /consumer "audit-log" needs to write uploads prefix "audit\/\*": a prefix is path segments ending in "\/"/,
    ],
    [
      "a bucket prefix without its trailing slash (it would match audit-trail/ too)",
      {},
      { uploads: { read: ["audit"] } },
      /needs to read uploads prefix "audit"/,
    ],
    [
      "an SMS cap without sending SMS and the idempotency table it counts in",
      { needs: { idempotencyTable: true } },
      { smsCap: { perNumberPerDay: 3, perCountryPerDay: 100 } },
      /consumer "audit-log" has an smsCap, which needs sendsSms and the idempotency table/,
    ],
    [
      "a name field that differs from its key",
      { name: "audit" },
      undefined,
      /consumer "audit-log": its name field says "audit"/,
    ],
  ])(
    "WHEN it names %s THEN building throws naming the entry and what is wrong",
    (_case, entry, needs, message) => {
      expect(attempt(entry, needs as ExampleNeeds | undefined)).toThrow(message);
    },
  );

  it("WHEN it has two mistakes THEN the error names both", () => {
    expect(attempt({ topic: "order-events", needs: { secrets: ["audit-key"] } })).toThrow(
      /topic "order-events".*; consumer "audit-log" needs secret "audit-key"/,
    );
  });
});
