import { SQSClient, type SQSClientConfig } from "@aws-sdk/client-sqs";
import { SQS_CLIENT_DEFAULTS } from "./sqs-on-demand.ts";

/**
 * An SQS client that sends every call to the endpoint the configuration chain resolved (a profile's
 * endpoint_url, AWS_ENDPOINT_URL, or the regional endpoint), not to the host inside each QueueUrl,
 * which the SDK otherwise prefers when the endpoint came from a config file. A queue URL read from a
 * stack's outputs then cannot route a call around a proxy, a VPC endpoint or the operator's choice.
 */
export function sqsClient(config: SQSClientConfig = {}): SQSClient {
  return new SQSClient({ ...SQS_CLIENT_DEFAULTS, ...config });
}
