import { ensureLocalStack, stopLocalStack } from "../../src/dev/localstack.ts";

export interface BenchLocalStack {
  readonly endpoint: string;
  readonly version: string;
  /** Stops LocalStack if this run started it; leaves a running or AWS_ENDPOINT_URL one alone. */
  readonly release: () => Promise<void>;
}

/**
 * The LocalStack to measure against, through the same harness as `courier local up`:
 * AWS_ENDPOINT_URL when set, else the one on 127.0.0.1:4566, else one started for this run.
 */
export async function benchLocalStack(log: (line: string) => void): Promise<BenchLocalStack> {
  const handle = await ensureLocalStack({ log });
  log(`LocalStack ${handle.version ?? "unknown"} at ${handle.endpoint} (${handle.source})`);
  // Clients built with localClientConfig() inside the benchmarks find the same endpoint.
  process.env.AWS_ENDPOINT_URL = handle.endpoint;
  return {
    endpoint: handle.endpoint,
    version: handle.version ?? "unknown",
    release: async () => {
      if (handle.source === "started") log((await stopLocalStack({ log })).reason);
    },
  };
}
