/**
 * Dwell time per tenant (publish to processed, from the envelope's `occurredAt`), as EMF metrics:
 * SQS publishes no per-tenant figures, fair queue or not. The tenant is a dimension only for the
 * few noisiest tenants of the recent past (bounded cardinality: CloudWatch bills each dimension
 * value as a metric of its own); every other tenant is counted as "other", which is the quiet
 * tenants' dwell time, the figure the stack's alarm watches (cdk/tenant-dwell-alarm.ts).
 *
 * Noisy here means what SQS fair queues mean by it, over a sliding minute of processed messages:
 * more than 10 % of them, and at least 30; at most `topN` tenants are named at once.
 * Written with Powertools Metrics (dimensions per document); the runtime's own counts go through
 * its leaner EmfMetrics (emf-metrics.ts), which has no dimension but `service`.
 */
import { MetricUnit } from "@aws-lambda-powertools/metrics";
import { loadCloudWatchModule } from "../aws-sdk-on-demand.ts";

export const TENANT_DWELL_METRIC = "TenantDwellTime";
export const TENANT_DIMENSION = "tenant";
/** The dimension value of every tenant that is not among the noisiest: the quiet tenants. */
export const OTHER_TENANTS = "other";
export const TENANT_DWELL_DEFAULTS = {
  topN: 5,
  windowMs: 60_000,
  noisyShare: 0.1,
  noisyMinimum: 30,
  /** Tenants counted per window; more are folded into one count (memory bound). */
  maxTracked: 10_000,
} as const;

/** What the recorder needs of Powertools Metrics (which fits it; tests pass their own). */
export interface TenantMetricsWriter {
  addDimension(name: string, value: string): unknown;
  addMetric(name: string, unit: (typeof MetricUnit)[keyof typeof MetricUnit], value: number): unknown;
  publishStoredMetrics(): unknown;
}

export interface TenantDwellOptions {
  readonly metrics: TenantMetricsWriter;
  /** Clock in epoch milliseconds. */
  readonly now: () => number;
  readonly topN?: number;
  readonly windowMs?: number;
  readonly noisyShare?: number;
  readonly noisyMinimum?: number;
}

const OVERFLOW = "\u0000overflow";
const VALUES_PER_DOCUMENT = 99;

export class TenantDwell {
  private readonly options: Required<Omit<TenantDwellOptions, "metrics" | "now">>;
  /** Processed counts per tenant in the current and the previous window. */
  private current = new Map<string, number>();
  private previous = new Map<string, number>();
  private windowStart: number;
  private pending: Array<{ tenant: string; ms: number }> = [];

  constructor(private readonly writer: Pick<TenantDwellOptions, "metrics" | "now"> & TenantDwellOptions) {
    this.options = {
      topN: writer.topN ?? TENANT_DWELL_DEFAULTS.topN,
      windowMs: writer.windowMs ?? TENANT_DWELL_DEFAULTS.windowMs,
      noisyShare: writer.noisyShare ?? TENANT_DWELL_DEFAULTS.noisyShare,
      noisyMinimum: writer.noisyMinimum ?? TENANT_DWELL_DEFAULTS.noisyMinimum,
    };
    this.windowStart = writer.now();
  }

  /** A record of `tenant` was processed `ms` after it was published. */
  record(tenant: string, ms: number): void {
    if (!Number.isFinite(ms)) return;
    this.rotate();
    const key =
      this.current.has(tenant) || this.current.size < TENANT_DWELL_DEFAULTS.maxTracked ? tenant : OVERFLOW;
    this.current.set(key, (this.current.get(key) ?? 0) + 1);
    this.pending.push({ tenant, ms: Math.max(0, ms) });
  }

  private rotate(): void {
    const now = this.writer.now();
    if (now - this.windowStart < this.options.windowMs) return;
    // Two windows old or more: nothing recent is left to count.
    this.previous = now - this.windowStart < 2 * this.options.windowMs ? this.current : new Map();
    this.current = new Map();
    this.windowStart = now;
  }

  /** The tenants named as a dimension now, noisiest first: over the share and minimum, at most topN. */
  noisyTenants(): Array<{ tenant: string; processed: number }> {
    this.rotate();
    const counts = new Map(this.previous);
    for (const [tenant, n] of this.current) counts.set(tenant, (counts.get(tenant) ?? 0) + n);
    counts.delete(OVERFLOW);
    let total = 0;
    for (const n of counts.values()) total += n;
    return [...counts.entries()]
      .filter(([, n]) => n >= this.options.noisyMinimum && n > this.options.noisyShare * total)
      .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
      .slice(0, this.options.topN)
      .map(([tenant, processed]) => ({ tenant, processed }));
  }

  /** Writes what was recorded since the last flush: one EMF document per dimension value. */
  flush(): void {
    if (this.pending.length === 0) return;
    const named = new Set(this.noisyTenants().map((t) => t.tenant));
    const byDimension = new Map<string, number[]>();
    for (const { tenant, ms } of this.pending) {
      const dimension = named.has(tenant) ? tenant : OTHER_TENANTS;
      const values = byDimension.get(dimension);
      if (values) values.push(ms);
      else byDimension.set(dimension, [ms]);
    }
    this.pending = [];
    const { metrics } = this.writer;
    for (const [dimension, values] of byDimension) {
      // Powertools publishes by itself at 100 values of a metric, and a publish clears dimensions:
      // 99 a document keeps every value under its tenant.
      for (let i = 0; i < values.length; i += VALUES_PER_DOCUMENT) {
        metrics.addDimension(TENANT_DIMENSION, dimension);
        for (const ms of values.slice(i, i + VALUES_PER_DOCUMENT)) {
          metrics.addMetric(TENANT_DWELL_METRIC, MetricUnit.Milliseconds, ms);
        }
        metrics.publishStoredMetrics();
      }
    }
  }
}

/**
 * A writer that sends each document's values to CloudWatch with PutMetricData (the same namespace,
 * metric and dimensions the EMF lines would become), for where no EMF is extracted: LocalStack.
 * Sends in the background; a failed send is reported to `onError` and dropped (figures, not data).
 */
export function putMetricDataWriter(options: {
  readonly namespace: string;
  readonly serviceName: string;
  /** @default PutMetricData through a CloudWatch client from the environment, loaded at first use */
  readonly send?: (input: PutMetricDataInput) => Promise<unknown>;
  readonly onError?: (error: unknown) => void;
}): TenantMetricsWriter {
  let dimension: string | undefined;
  let values: number[] = [];
  let client: Promise<(input: PutMetricDataInput) => Promise<unknown>> | undefined;
  const send =
    options.send ??
    ((input: PutMetricDataInput) => {
      client ??= loadCloudWatchModule().then(({ CloudWatchClient, PutMetricDataCommand }) => {
        const cloudwatch = new CloudWatchClient({});
        return (i: PutMetricDataInput) => cloudwatch.send(new PutMetricDataCommand(i));
      });
      return client.then((put) => put(input));
    });
  return {
    addDimension: (name, value) => {
      if (name === TENANT_DIMENSION) dimension = value;
    },
    addMetric: (name, _unit, value) => {
      if (name === TENANT_DWELL_METRIC) values.push(value);
    },
    publishStoredMetrics: () => {
      const tenant = dimension;
      const sent = values;
      dimension = undefined;
      values = [];
      if (!tenant || sent.length === 0) return;
      const counts = new Map<number, number>();
      for (const v of sent) counts.set(v, (counts.get(v) ?? 0) + 1);
      send({
        Namespace: options.namespace,
        MetricData: [
          {
            MetricName: TENANT_DWELL_METRIC,
            Dimensions: [
              { Name: "service", Value: options.serviceName },
              { Name: TENANT_DIMENSION, Value: tenant },
            ],
            Values: [...counts.keys()],
            Counts: [...counts.values()],
            Unit: "Milliseconds",
          },
        ],
      }).catch((error: unknown) => options.onError?.(error));
    },
  };
}

/** What PutMetricData takes, as far as the writer fills it. */
export type PutMetricDataInput = import("@aws-sdk/client-cloudwatch").PutMetricDataCommandInput;
