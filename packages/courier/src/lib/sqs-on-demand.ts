/**
 * The consumer runtime's SQS client, made when it is first needed: a consumer calls SQS only for
 * failures (retry delays, dead letters) and, on a topic with tenants, to read its tenant controls,
 * so a cold start that needs neither makes no client. The module itself is imported statically:
 * with the SDK bundled (awsSdk "bundled", the default) its tree-shaken commands share the bundle's
 * SDK core and cost a cold start ~0-7 ms, where loading it at the first failure from the runtime's
 * copy, a second SDK core, cost that failure about 50 ms (bench/cold-start.bench.ts, paired runs).
 */
import { SQSClient, type SQSClientConfig } from "@aws-sdk/client-sqs";

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
 * or a new SQSClient with courier's defaults.
 */
export function sqsOnDemand(source?: SqsClientSource): () => Promise<SQSClient> {
  let client: Promise<SQSClient> | undefined;
  return () => {
    client ??= (async () => {
      if (typeof source === "function") return source();
      if (source) return source;
      return new SQSClient({ ...SQS_CLIENT_DEFAULTS });
    })();
    return client;
  };
}
