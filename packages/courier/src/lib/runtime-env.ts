/**
 * The environment variables the library itself reads at run time. Deployment knowledge
 * (`src/deployment/consumer-environment.ts`) sets them, so their names live here, below it.
 */
export const RUNTIME_ENV = {
  consumer: "COURIER_CONSUMER",
  queueUrl: "COURIER_QUEUE_URL",
  dlqUrl: "COURIER_DLQ_URL",
  idempotencyTable: "IDEMPOTENCY_TABLE",
} as const;
