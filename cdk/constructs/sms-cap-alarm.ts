import { InvalidConstructPropsError } from "@courier-queue/courier/cdk";
import { Duration } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import { Construct } from "constructs";

export interface SmsCapAlarmProps {
  /** The consumer whose metric it watches: the `service` dimension of its Powertools metrics. */
  readonly consumer: string;
  /** The metric the consumer emits per refused SMS. */
  readonly metricName: string;
  /** @default "courier" */
  readonly namespace?: string;
  /** Refusals within `period` that raise the alarm. @default 1 */
  readonly threshold?: number;
  /** @default 5 minutes */
  readonly period?: Duration;
}

/**
 * An alarm when an SMS sender refuses sends over its daily cap: someone is pumping sign-ups to a
 * number or a country code (or a real user is stuck), and a person should look. Missing data
 * (no refusals) is not breaching.
 */
export class SmsCapAlarm extends Construct {
  public readonly alarm: cloudwatch.Alarm;
  public readonly metric: cloudwatch.Metric;

  constructor(scope: Construct, id: string, props: SmsCapAlarmProps) {
    const threshold = props.threshold ?? 1;
    if (!Number.isInteger(threshold) || threshold < 1) {
      throw new InvalidConstructPropsError(
        scope,
        id,
        `threshold must be a whole number of at least 1, got ${threshold}`,
      );
    }
    super(scope, id);
    this.metric = new cloudwatch.Metric({
      namespace: props.namespace ?? "courier",
      metricName: props.metricName,
      dimensionsMap: { service: props.consumer },
      statistic: cloudwatch.Stats.SUM,
      period: props.period ?? Duration.minutes(5),
    });
    this.alarm = new cloudwatch.Alarm(this, "Alarm", {
      alarmDescription: `${props.consumer}: verification SMS refused over the daily cap (sms-rate-limited); look for SMS pumping`,
      metric: this.metric,
      threshold,
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: 1,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
