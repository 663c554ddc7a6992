/**
 * Running it in production, as the template shows it. Failure modes covered: an alarm nobody hears
 * (no action, or ALARM without OK), an alarm topic CloudWatch cannot publish to (its key), a
 * function that fails or is throttled without an alarm, a message SNS cannot deliver dropped
 * silently (a subscription without a redrive policy), a subscription DLQ any sender may fill, and a
 * consumer missing from the dashboard.
 */
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { alarmNotificationsFromContext } from "../../cdk/alarm-context.ts";
import { CourierStack } from "../../cdk/stacks/courier-stack.ts";
import {
  CONSUMER_WIDGETS,
  RUNTIME_OUTCOME_METRICS,
} from "../../packages/courier/src/cdk/consumer-dashboard.ts";
import { alarmThresholds } from "../../packages/courier/src/topology/topology.ts";
import { DLQ_RETENTION_DAYS } from "../../packages/courier/src/topology/topology-problems.ts";
import { type ConsumerName, consumerNames, consumers, topicNames } from "../../src/topology.ts";
import {
  appWithoutBundling,
  type CfnTemplate,
  logicalId,
  type PolicyStatement,
  policyStatements,
  props,
  ref,
  resourcesOfType,
  type SynthesizedCourier,
  synthCourierStack,
  TEST_SETTINGS,
} from "./fixtures.ts";

let synth: SynthesizedCourier;
let json: CfnTemplate;
beforeAll(() => {
  synth = synthCourierStack("courier-operations-test");
  json = synth.json;
});

const alarmTopicId = () => logicalId(synth.courier.alarmTopic.topic);

/** The dashboard body with its tokens replaced by a placeholder, parsed. */
function dashboardBody(template: CfnTemplate): { widgets: Array<{ properties: Record<string, unknown> }> } {
  const [[, dashboard] = []] = resourcesOfType(template, "AWS::CloudWatch::Dashboard");
  const body = dashboard?.Properties?.DashboardBody as { "Fn::Join": [string, unknown[]] };
  const text = body["Fn::Join"][1].map((part) => (typeof part === "string" ? part : "TOKEN")).join("");
  return JSON.parse(text);
}

describe("GIVEN the synthesized stack WHEN reading its alarms", () => {
  it("THEN every alarm sends both ALARM and OK to the stack's alarm topic", () => {
    const alarms = resourcesOfType(json, "AWS::CloudWatch::Alarm");
    expect(alarms.length).toBeGreaterThan(0);
    for (const [id, alarm] of alarms) {
      expect(alarm.Properties?.AlarmActions, id).toEqual([ref(alarmTopicId())]);
      expect(alarm.Properties?.OKActions, id).toEqual([ref(alarmTopicId())]);
    }
  });

  it("THEN the alarm topic is encrypted with a rotating key of this stack that CloudWatch may use", () => {
    const topic = props(json, alarmTopicId());
    const keyId = (topic.KmsMasterKeyId as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
    expect(props(json, keyId).EnableKeyRotation).toBe(true);
    const statements = (props(json, keyId).KeyPolicy as { Statement: PolicyStatement[] }).Statement;
    const forCloudWatch = statements.find(
      (s) => JSON.stringify(s.Principal) === JSON.stringify({ Service: "cloudwatch.amazonaws.com" }),
    );
    expect(forCloudWatch?.Action).toEqual(["kms:GenerateDataKey*", "kms:Decrypt"]);
  });

  it("THEN without alarm context the topic has no subscriptions (nobody is mailed by default)", () => {
    expect(
      resourcesOfType(json, "AWS::SNS::Subscription").filter(([, s]) => s.Properties?.Protocol !== "sqs"),
    ).toEqual([]);
  });

  describe.each(consumerNames)("THEN consumer %s", (name: ConsumerName) => {
    const thresholds = alarmThresholds(consumers[name]);
    const functionAlarm = (metricName: string) =>
      resourcesOfType(json, "AWS::CloudWatch::Alarm").filter(
        ([, a]) =>
          a.Properties?.MetricName === metricName &&
          a.Properties?.Namespace === "AWS/Lambda" &&
          JSON.stringify(a.Properties?.Dimensions) ===
            JSON.stringify([
              { Name: "FunctionName", Value: ref(logicalId(synth.courier.consumerFunctions[name].function)) },
            ]),
      );

    it("has an errors alarm on its function, summed over 5 minutes, with the topology's threshold", () => {
      const alarms = functionAlarm("Errors");
      expect(alarms).toHaveLength(1);
      expect(alarms[0]?.[1].Properties).toMatchObject({
        Statistic: "Sum",
        Period: 300,
        Threshold: thresholds.functionErrors,
        ComparisonOperator: "GreaterThanThreshold",
        TreatMissingData: "notBreaching",
      });
    });

    it("has a throttles alarm on its function with the topology's threshold", () => {
      const alarms = functionAlarm("Throttles");
      expect(alarms).toHaveLength(1);
      expect(alarms[0]?.[1].Properties).toMatchObject({
        Statistic: "Sum",
        Threshold: thresholds.functionThrottles,
      });
    });
  });

  it("WHEN a topology entry sets a threshold THEN it replaces that default only", () => {
    expect(alarmThresholds({ ...consumers.thumbnails, alarms: { functionErrors: 3 } })).toEqual({
      deadLetters: 0,
      functionErrors: 3,
      functionThrottles: 0,
      quietTenantDwellSeconds: 300,
    });
  });
});

describe("GIVEN alarm subscriptions in the deploy context", () => {
  const context = {
    alarmEmail: "ops@example.com, oncall@example.com",
    alarmHttpsEndpoint: "https://events.pagerduty.example.com/integration/abc/enqueue",
    alarmTopicArn: "arn:aws:sns:eu-west-1:123456789012:on-call",
  };
  let template: CfnTemplate;
  let stack: CourierStack;
  beforeAll(() => {
    const app = appWithoutBundling();
    stack = new CourierStack(app, "courier-alarm-context-test", {
      settings: TEST_SETTINGS,
      alarmNotifications: alarmNotificationsFromContext((key) => context[key as keyof typeof context]),
    });
    template = Template.fromStack(stack).toJSON() as CfnTemplate;
  });

  it("WHEN synthesized THEN each address and the endpoint subscribe to the alarm topic", () => {
    const topic = ref(logicalId(stack.courier.alarmTopic.topic));
    const subscriptions = resourcesOfType(template, "AWS::SNS::Subscription")
      .map(([, s]) => s.Properties ?? {})
      .filter((p) => JSON.stringify(p.TopicArn) === JSON.stringify(topic))
      .map((p) => `${p.Protocol} ${p.Endpoint}`)
      .sort();
    expect(subscriptions).toEqual([
      "email oncall@example.com",
      "email ops@example.com",
      `https ${context.alarmHttpsEndpoint}`,
    ]);
  });

  it("WHEN synthesized THEN every alarm also notifies the existing topic, for ALARM and OK", () => {
    const expected = [ref(logicalId(stack.courier.alarmTopic.topic)), context.alarmTopicArn];
    for (const [id, alarm] of resourcesOfType(template, "AWS::CloudWatch::Alarm")) {
      expect(alarm.Properties?.AlarmActions, id).toEqual(expected);
      expect(alarm.Properties?.OKActions, id).toEqual(expected);
    }
  });

  it.each([
    [{ alarmEmail: "not-an-address" }, /alarm email "not-an-address" is not an email address/],
    [{ alarmHttpsEndpoint: "http://plain.example.com/hook" }, /must be an https:\/\/ URL/],
    [{ alarmTopicArn: "on-call" }, /must be an SNS topic ARN/],
  ])("WHEN the context holds %o THEN synth fails with a clear error", (bad, message) => {
    expect(
      () =>
        new CourierStack(appWithoutBundling(), "courier-bad-alarm-context", {
          settings: TEST_SETTINGS,
          alarmNotifications: alarmNotificationsFromContext((key) => bad[key as keyof typeof bad]),
        }),
    ).toThrow(message);
  });
});

describe("GIVEN the synthesized stack WHEN reading its SNS subscriptions", () => {
  const queueSubscriptions = () =>
    resourcesOfType(json, "AWS::SNS::Subscription").filter(([, s]) => s.Properties?.Protocol === "sqs");

  it("THEN every SQS subscription has a redrive policy to a queue of this stack", () => {
    // Each consumer's, and each topic archive's (every example topic keeps one).
    expect(queueSubscriptions()).toHaveLength(consumerNames.length + topicNames.length);
    for (const [id, subscription] of queueSubscriptions()) {
      const target = (subscription.Properties?.RedrivePolicy as { deadLetterTargetArn?: unknown } | undefined)
        ?.deadLetterTargetArn as { "Fn::GetAtt"?: [string, string] } | undefined;
      expect(json.Resources[target?.["Fn::GetAtt"]?.[0] ?? ""]?.Type, id).toBe("AWS::SQS::Queue");
    }
  });

  describe.each(consumerNames)("THEN the subscription DLQ of %s", (name: ConsumerName) => {
    const ids = () => {
      const queue = synth.courier.consumerQueues[name];
      return {
        dlq: logicalId(queue.subscriptionDeadLetterQueue),
        topic: logicalId(synth.courier.topics[consumers[name].topic].topic),
        subscription: logicalId(queue.subscription),
      };
    };

    it("is the one its subscription's redrive policy names", () => {
      expect(props(json, ids().subscription).RedrivePolicy).toEqual({
        deadLetterTargetArn: { "Fn::GetAtt": [ids().dlq, "Arn"] },
      });
    });

    it("keeps messages 14 days under a customer-managed key", () => {
      const dlq = props(json, ids().dlq);
      expect(dlq.MessageRetentionPeriod).toBe(DLQ_RETENTION_DAYS * 86_400);
      const key = (dlq.KmsMasterKeyId as { "Fn::GetAtt": [string, string] })["Fn::GetAtt"][0];
      expect(json.Resources[key]?.Type).toBe("AWS::KMS::Key");
    });

    it("lets only its topic's SNS send to it, and refuses non-TLS access", () => {
      const statements: PolicyStatement[] = resourcesOfType(json, "AWS::SQS::QueuePolicy")
        .filter(([, p]) => JSON.stringify(p.Properties?.Queues).includes(`"${ids().dlq}"`))
        .flatMap(([, p]) => policyStatements(p));
      const allows = statements.filter((s) => s.Effect === "Allow");
      expect(allows).toEqual([
        {
          Effect: "Allow",
          Action: "sqs:SendMessage",
          Principal: { Service: "sns.amazonaws.com" },
          Resource: { "Fn::GetAtt": [ids().dlq, "Arn"] },
          Condition: { ArnEquals: { "aws:SourceArn": ref(ids().topic) } },
        },
      ]);
      expect(
        statements.some(
          (s) => s.Effect === "Deny" && JSON.stringify(s.Condition).includes("aws:SecureTransport"),
        ),
      ).toBe(true);
    });

    it("is alarmed when it holds anything", () => {
      const alarms = resourcesOfType(json, "AWS::CloudWatch::Alarm").filter(
        ([, a]) =>
          a.Properties?.MetricName === "ApproximateNumberOfMessagesVisible" &&
          JSON.stringify(a.Properties?.Dimensions).includes(`"${ids().dlq}"`),
      );
      expect(alarms).toHaveLength(1);
      expect(alarms[0]?.[1].Properties?.Threshold).toBe(alarmThresholds(consumers[name]).deadLetters);
    });
  });
});

describe("GIVEN the synthesized stack WHEN reading its dashboard", () => {
  it("THEN there is exactly one dashboard", () => {
    expect(resourcesOfType(json, "AWS::CloudWatch::Dashboard")).toHaveLength(1);
  });

  describe.each(consumerNames)("THEN consumer %s", (name: ConsumerName) => {
    const widget = (suffix: string) => {
      const found = dashboardBody(json).widgets.filter((w) => w.properties.title === `${name}: ${suffix}`);
      expect(found, suffix).toHaveLength(1);
      return JSON.stringify(found[0]?.properties.metrics);
    };

    it("has every widget of the set", () => {
      const titles = dashboardBody(json).widgets.map((w) => w.properties.title);
      for (const suffix of CONSUMER_WIDGETS) expect(titles).toContain(`${name}: ${suffix}`);
    });

    it("graphs its queue's depth and oldest age, and both its DLQs' depth", () => {
      expect(widget("queue depth")).toMatch(
        /ApproximateNumberOfMessagesVisible.*ApproximateNumberOfMessagesNotVisible.*ApproximateNumberOfMessagesDelayed/,
      );
      expect(widget("oldest message age")).toContain("ApproximateAgeOfOldestMessage");
      expect(widget("dead letters").match(/ApproximateNumberOfMessagesVisible/g)).toHaveLength(2);
    });

    it("graphs the runtime's outcomes under its own service dimension", () => {
      const metrics = widget("outcomes");
      for (const metric of RUNTIME_OUTCOME_METRICS) {
        expect(metrics).toContain(`["courier","${metric}","service","${name}"`);
      }
    });

    it("graphs its function's duration, errors, throttles and concurrency", () => {
      expect(widget("duration")).toContain('"AWS/Lambda","Duration"');
      expect(widget("errors and throttles")).toMatch(/"Errors".*"Throttles"/);
      expect(widget("concurrency")).toContain("ConcurrentExecutions");
    });
  });
});
