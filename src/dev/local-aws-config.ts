/**
 * Client configuration for the local run. `AWS_ENDPOINT_URL` wins when set (a LocalStack in
 * Docker, or elsewhere); otherwise the harness's host-mode LocalStack on 127.0.0.1:4566 (or the
 * port in COURIER_LOCALSTACK_PORT).
 */
export const DEFAULT_LOCAL_ENDPOINT = "http://127.0.0.1:4566";
export const LOCAL_REGION = "us-east-1";

export function localEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AWS_ENDPOINT_URL) return env.AWS_ENDPOINT_URL;
  // The harness can run LocalStack on another port (COURIER_LOCALSTACK_PORT); clients follow it.
  return env.COURIER_LOCALSTACK_PORT
    ? `http://127.0.0.1:${env.COURIER_LOCALSTACK_PORT}`
    : DEFAULT_LOCAL_ENDPOINT;
}

export interface LocalClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  forcePathStyle: boolean;
}

/** LocalStack accepts any credentials; "test" keeps the account id at 000000000000. */
export function localClientConfig(env: NodeJS.ProcessEnv = process.env): LocalClientConfig {
  return {
    endpoint: localEndpoint(env),
    region: env.AWS_REGION ?? env.AWS_DEFAULT_REGION ?? LOCAL_REGION,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    forcePathStyle: true,
  };
}
