import { localEndpoint } from "../../src/local/aws-config.ts";

interface Health {
  version?: string;
  services?: Record<string, string>;
}

/**
 * Returns the endpoint of a LocalStack that serves the given services: AWS_ENDPOINT_URL when set,
 * else the one on 127.0.0.1:4566. Benchmarks measure a running emulator; they do not start one
 * (`courier local up` does), so a missing one is a one-line error.
 */
export async function requireLocalStack(
  services: readonly string[],
): Promise<{ endpoint: string; version: string }> {
  const endpoint = localEndpoint();
  let health: Health;
  try {
    const response = await fetch(new URL("/_localstack/health", endpoint), {
      signal: AbortSignal.timeout(5_000),
    });
    health = (await response.json()) as Health;
  } catch (error) {
    throw new Error(
      `no LocalStack answers on ${endpoint} (${(error as Error).message}); run "courier local up" or set AWS_ENDPOINT_URL`,
    );
  }
  const down = services.filter((s) => !["available", "running"].includes(health.services?.[s] ?? ""));
  if (down.length > 0) {
    throw new Error(
      `LocalStack on ${endpoint} does not serve ${down.join(", ")} (health: ${JSON.stringify(health.services)})`,
    );
  }
  return { endpoint, version: health.version ?? "unknown" };
}
