/**
 * Client configuration for the local run: LocalStack at `AWS_ENDPOINT_URL` when set (a LocalStack
 * in Docker, or elsewhere), otherwise the harness's host-mode LocalStack on 127.0.0.1:4566 (or the
 * port in COURIER_LOCALSTACK_PORT), with its dummy credentials. The rule itself lives with the other
 * target rules in src/deployment/aws-target.ts.
 */
import {
  LOCALSTACK_DEFAULT_PORT,
  LOCALSTACK_REGION,
  localStackEndpoint,
  localTarget,
} from "../../packages/courier/src/deployment/aws-target.ts";

export const DEFAULT_LOCAL_ENDPOINT = `http://127.0.0.1:${LOCALSTACK_DEFAULT_PORT}`;
export const LOCAL_REGION = LOCALSTACK_REGION;

export function localEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return localStackEndpoint(env);
}

export interface LocalClientConfig {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  forcePathStyle: boolean;
}

export function localClientConfig(env: NodeJS.ProcessEnv = process.env): LocalClientConfig {
  const target = localTarget(env);
  return {
    endpoint: target.endpoint ?? localStackEndpoint(env),
    region: target.region ?? LOCALSTACK_REGION,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    forcePathStyle: true,
  };
}
