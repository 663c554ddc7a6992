import { Duration, Token } from "aws-cdk-lib";
import * as cloudwatch from "aws-cdk-lib/aws-cloudwatch";
import { Construct } from "constructs";
import { OTHER_TENANTS, TENANT_DIMENSION, TENANT_DWELL_METRIC } from "../lib/consumer/tenant-dwell.ts";
import { InvalidConstructPropsError } from "./errors.ts";

export interface QuietTenantDwellAlarmProps {
  /** The consumer: the `service` dimension its runtime writes its metrics under. */
  readonly consumerName: string;
  /** Where the runtime writes its metrics (POWERTOOLS_METRICS_NAMESPACE). @default "courier" */
  readonly metricsNamespace?: string;
  /**
   * Alarm when quiet tenants' dwell time (publish to processed) at p95 stays above this for
   * `evaluationPeriods` minutes: a quiet tenant waiting is what fair delivery exists to prevent.
   * @default Duration.minutes(5)
   */
  readonly threshold?: Duration;
  /** Minutes in a row over the threshold before it alarms. @default 3 */
  readonly evaluationPeriods?: number;
}

/**
 * An alarm on a consumer's quiet tenants' dwell time: the runtime's `TenantDwellTime` metric
 * (lib/consumer/tenant-dwell.ts) under the tenant dimension value "other", which holds every
 * tenant that is not among the few noisiest. SQS publishes no per-tenant metric, fair queue or not.
 * No data (no quiet tenant's message processed) is not breaching.
 */
export class QuietTenantDwellAlarm extends Construct {
  public readonly metric: cloudwatch.Metric;
  public readonly alarm: cloudwatch.Alarm;

  constructor(scope: Construct, id: string, props: QuietTenantDwellAlarmProps) {
    const threshold = props.threshold ?? Duration.minutes(5);
    const evaluationPeriods = props.evaluationPeriods ?? 3;
    if (!Token.isUnresolved(threshold.toMilliseconds()) && threshold.toMilliseconds() <= 0) {
      throw new InvalidConstructPropsError(scope, id, "threshold must be positive");
    }
    if (!Number.isInteger(evaluationPeriods) || evaluationPeriods < 1) {
      throw new InvalidConstructPropsError(
        scope,
        id,
        `evaluationPeriods must be a whole number of at least 1, got ${evaluationPeriods}`,
      );
    }
    if (!props.consumerName) throw new InvalidConstructPropsError(scope, id, "consumerName is empty");
    super(scope, id);
    this.metric = new cloudwatch.Metric({
      namespace: props.metricsNamespace ?? "courier",
      metricName: TENANT_DWELL_METRIC,
      dimensionsMap: { service: props.consumerName, [TENANT_DIMENSION]: OTHER_TENANTS },
      statistic: cloudwatch.Stats.p(95),
      period: Duration.minutes(1),
      unit: cloudwatch.Unit.MILLISECONDS,
    });
    this.alarm = new cloudwatch.Alarm(this, "Alarm", {
      alarmDescription: `${this.node.path}: quiet tenants of ${props.consumerName} wait over ${threshold.toHumanString()} (p95 dwell, publish to processed); is a noisy tenant holding the consumer? courier status lists the noisy ones, courier tenant pause holds one`,
      metric: this.metric,
      threshold: threshold.toMilliseconds(),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_THRESHOLD,
      evaluationPeriods,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
