/**
 * The consumer runtime's SQS client, made when it is first needed. A consumer calls SQS only for
 * failures (retry delays, dead letters), so its happy path never needs the client, and loading
 * `@aws-sdk/client-sqs` costs a cold start several milliseconds (bench/cold-start.bench.ts). The
 * module is imported dynamically: a static import anywhere in a bundle makes the bundle load it
 * at start, whatever the code that uses it does.
 */
import type { SQSClient, SQSClientConfig } from "@aws-sdk/client-sqs";
import { loadSqsModule } from "./aws-sdk-on-demand.ts";

/**
 * Every call goes to the endpoint the configuration chain resolved (a profile's endpoint_url,
 * AWS_ENDPOINT_URL, or the regional endpoint), not to the host inside each QueueUrl, which the
 * SDK otherwise prefers when the endpoint came from a config file. A queue URL read from a stack's
 * outputs then cannot route a call around a proxy, a VPC endpoint or the operator's choice.
 */
export const SQS_CLIENT_DEFAULTS: SQSClientConfig = { useQueueUrlAsEndpoint: false };

/** An SQS client, or a function that makes one when first asked (sync or async). */
export type SqsClientSource = SQSClient | (() => SQSClient | Promise<SQSClient>);

/**
 * A getter that resolves the client once, on first call: the given client, the given factory's,
 * or a new SQSClient with courier's defaults (its module loaded then).
 */
export function sqsOnDemand(source?: SqsClientSource): () => Promise<SQSClient> {
  let client: Promise<SQSClient> | undefined;
  return () => {
    client ??= (async () => {
      if (typeof source === "function") return source();
      if (source) return source;
      const { SQSClient } = await loadSqsModule();
      return new SQSClient({ ...SQS_CLIENT_DEFAULTS });
    })();
    return client;
  };
}
