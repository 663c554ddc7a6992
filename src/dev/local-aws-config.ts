/**
 * Client configuration for the local run: LocalStack at `AWS_ENDPOINT_URL` when set (a LocalStack
 * in Docker, or elsewhere), otherwise the harness's host-mode LocalStack on 127.0.0.1:4566 (or the
 * port in COURIER_LOCALSTACK_PORT), with its dummy credentials. The rule itself is the package's
 * `localTarget`, the same as `--local` for every command.
 */
import { localTarget } from "@courier-queue/courier/worker";

/** Where `localTarget` points without AWS_ENDPOINT_URL or COURIER_LOCALSTACK_PORT. */
export const DEFAULT_LOCAL_ENDPOINT = localTarget({}).endpoint as string;
export const LOCAL_REGION = localTarget({}).region as string;

export function localEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  return localTarget(env).endpoint as string;
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
    endpoint: target.endpoint ?? DEFAULT_LOCAL_ENDPOINT,
    region: target.region ?? LOCAL_REGION,
    credentials: { accessKeyId: "test", secretAccessKey: "test" },
    forcePathStyle: true,
  };
}
