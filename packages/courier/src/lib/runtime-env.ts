/**
 * The environment variables the library itself reads at run time. Deployment knowledge
 * (`src/deployment/consumer-environment.ts`) sets them, so their names live here, below it.
 */
export const RUNTIME_ENV = {
  consumer: "COURIER_CONSUMER",
  queueUrl: "COURIER_QUEUE_URL",
  dlqUrl: "COURIER_DLQ_URL",
  idempotencyTable: "IDEMPOTENCY_TABLE",
  /**
   * "put-metric-data": dwell time per tenant goes to CloudWatch with PutMetricData rather than as
   * EMF lines on stdout. Set by workers on LocalStack, whose CloudWatch Logs extracts no EMF, so
   * `courier status --local` and the console can name noisy tenants there too.
   */
  tenantMetrics: "COURIER_TENANT_METRICS",
} as const;
