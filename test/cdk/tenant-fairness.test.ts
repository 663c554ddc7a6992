/**
 * Fair delivery per tenant in the synthesized stack: what LocalStack cannot show (it evaluates no
 * EMF metric and runs no function), held as template assertions. Failure modes covered: no alarm on
 * quiet tenants' dwell (a quiet tenant waiting behind a flood goes unseen: SQS publishes no
 * per-tenant metric), an alarm on the wrong metric, dimension or statistic (it never fires), an
 * alarm on a consumer without tenants or on a FIFO topic, a tenant consumer's function unable to
 * read its tenant controls or to send a paused tenant's records back (the controls fail on AWS
 * only), and a threshold the construct should refuse.
 */
import { App, Duration, Stack } from "aws-cdk-lib";
import { Match } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { QuietTenantDwellAlarm } from "../../packages/courier/src/cdk/tenant-dwell-alarm.ts";
import { arnOf, logicalId, roleStatements, type SynthesizedCourier, synthCourierStack } from "./fixtures.ts";

let synth: SynthesizedCourier;
beforeAll(() => {
  synth = synthCourierStack("courier-tenant-fairness");
});

const alarmsOn = (consumer: string) =>
  synth.template.findResources("AWS::CloudWatch::Alarm", {
    Properties: {
      MetricName: "TenantDwellTime",
      Dimensions: Match.arrayWith([{ Name: "service", Value: consumer }]),
    },
  });

describe("GIVEN the example stack, whose uploads and exports name the account as tenant", () => {
  it("WHEN synthesized THEN thumbnails has an alarm on quiet tenants' p95 dwell over 5 minutes, 3 minutes running", () => {
    const alarms = Object.values(alarmsOn("thumbnails"));
    expect(alarms).toHaveLength(1);
    expect(alarms[0]?.Properties).toMatchObject({
      Namespace: "courier",
      Dimensions: expect.arrayContaining([{ Name: "tenant", Value: "other" }]),
      ExtendedStatistic: "p95",
      Period: 60,
      Threshold: 300_000,
      EvaluationPeriods: 3,
      ComparisonOperator: "GreaterThanThreshold",
      TreatMissingData: "notBreaching",
    });
    expect(synth.courier.quietTenantDwellAlarms.thumbnails).toBeDefined();
  });

  it("WHEN synthesized THEN the exports consumer has one too, and sign-up and FIFO consumers none", () => {
    expect(Object.keys(alarmsOn("account-export"))).toHaveLength(1);
    for (const consumer of ["verification-email", "team-notify", "password-reset-email", "security-audit"]) {
      expect(Object.keys(alarmsOn(consumer))).toHaveLength(0);
    }
  });

  it("WHEN synthesized THEN the alarm notifies the stack's alarm topic like every other alarm", () => {
    const [alarm] = Object.values(alarmsOn("thumbnails"));
    expect(alarm?.Properties.AlarmActions).toEqual([{ Ref: logicalId(synth.courier.alarmTopic.topic) }]);
  });

  it("WHEN synthesized THEN thumbnails may read its own queue's tags and send to its own queue (tenant controls)", () => {
    const queueArn = arnOf(logicalId(synth.courier.consumerQueues.thumbnails.queue));
    const fn = synth.courier.consumerFunctions.thumbnails.function;
    const roleId = logicalId(fn.role as NonNullable<typeof fn.role>);
    const statements = roleStatements(synth.json, roleId);
    const onQueue = statements.filter((s) => JSON.stringify(s.Resource) === JSON.stringify(queueArn));
    const actions = onQueue.flatMap((s) => (Array.isArray(s.Action) ? s.Action : [s.Action]));
    expect(actions).toEqual(expect.arrayContaining(["sqs:ListQueueTags", "sqs:SendMessage"]));
  });

  it("WHEN the stack's manifest is read THEN thumbnails' entry names its tenant field", () => {
    const outputs = synth.template.findOutputs("CourierConsumerThumbnails");
    const value = Object.values(outputs)[0]?.Value;
    expect(JSON.stringify(value)).toContain('\\"tenant\\":\\"uploadedBy\\"');
  });
});

describe("GIVEN the QuietTenantDwellAlarm construct alone", () => {
  it("WHEN its threshold is zero THEN synth refuses it with the construct's path", () => {
    const stack = new Stack(new App(), "S");
    expect(
      () => new QuietTenantDwellAlarm(stack, "Dwell", { consumerName: "c", threshold: Duration.seconds(0) }),
    ).toThrow(/S\/Dwell: threshold must be positive/);
  });
});
