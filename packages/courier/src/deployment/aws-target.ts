/**
 * Where a command's AWS calls go: one rule for every `courier` command.
 *
 * - By default, AWS itself through the SDK's standard configuration chain: environment variables,
 *   `--profile` (or AWS_PROFILE), `--region`, the shared config and credentials files, including a
 *   profile's `endpoint_url`, SSO, containers and instance roles. Nothing is overridden.
 * - `--endpoint-url <url>` (or AWS_ENDPOINT_URL, which the SDK reads itself): that endpoint, with
 *   credentials still from the chain.
 * - `--local` (and `courier local ...`, `npm start`): LocalStack on this machine, at
 *   AWS_ENDPOINT_URL or 127.0.0.1:4566 (COURIER_LOCALSTACK_PORT), with its dummy credentials.
 */
import { CloudFormationClient } from "@aws-sdk/client-cloudformation";

export const LOCALSTACK_DEFAULT_PORT = 4566;
export const LOCALSTACK_REGION = "us-east-1";
/**
 * LocalStack 4.14 keeps a raised topic's MaximumMessageSize but refuses any publish over 256 KiB;
 * a publisher aimed at it caps every topic's limit here (an offloading topic sends by reference).
 */
export const LOCALSTACK_MAX_PUBLISH_BYTES = 262_144;
/** LocalStack accepts any credentials; "test" keeps its account id at 000000000000. */
const LOCALSTACK_CREDENTIALS = { accessKeyId: "test", secretAccessKey: "test" } as const;

export interface TargetOptions {
  /** A named profile of the shared config files; the SDK's chain otherwise (AWS_PROFILE, default). */
  readonly profile?: string;
  readonly region?: string;
  /** An explicit endpoint for every service; credentials still come from the chain. */
  readonly endpointUrl?: string;
  /** LocalStack on this machine with its dummy credentials. */
  readonly local?: boolean;
}

export interface AwsTarget {
  readonly kind: "aws" | "local";
  readonly profile?: string;
  readonly region?: string;
  readonly endpoint?: string;
  /** Only for LocalStack: its dummy credentials. On AWS the chain finds them. */
  readonly credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** How to name the target in output: "AWS (profile ops, eu-west-1)", "http://127.0.0.1:4566". */
  readonly label: string;
}

/** The SDK client configuration of a target; pass it to every client a command builds. */
export interface TargetClientConfig {
  profile?: string;
  region?: string;
  endpoint?: string;
  credentials?: { accessKeyId: string; secretAccessKey: string };
  forcePathStyle?: boolean;
}

export class TargetConfigError extends Error {
  override readonly name = "TargetConfigError";
}

/** The LocalStack endpoint on this machine: AWS_ENDPOINT_URL when set, else the harness's port. */
export function localStackEndpoint(env: NodeJS.ProcessEnv = process.env): string {
  if (env.AWS_ENDPOINT_URL) return env.AWS_ENDPOINT_URL;
  return `http://127.0.0.1:${env.COURIER_LOCALSTACK_PORT || LOCALSTACK_DEFAULT_PORT}`;
}

export function localTarget(env: NodeJS.ProcessEnv = process.env): AwsTarget {
  const endpoint = localStackEndpoint(env);
  return {
    kind: "local",
    endpoint,
    region: env.AWS_REGION || env.AWS_DEFAULT_REGION || LOCALSTACK_REGION,
    credentials: LOCALSTACK_CREDENTIALS,
    label: `LocalStack at ${endpoint}`,
  };
}

export function resolveTarget(options: TargetOptions, env: NodeJS.ProcessEnv = process.env): AwsTarget {
  if (options.local) {
    if (options.profile) throw new TargetConfigError("--local and --profile exclude each other");
    const local = localTarget(options.endpointUrl ? { ...env, AWS_ENDPOINT_URL: options.endpointUrl } : env);
    return options.region ? { ...local, region: options.region } : local;
  }
  const profile = options.profile || undefined;
  const region = options.region || undefined;
  const endpoint = options.endpointUrl || undefined;
  if (endpoint && !/^https?:\/\//.test(endpoint)) {
    throw new TargetConfigError(`--endpoint-url must be an http(s) URL, got "${endpoint}"`);
  }
  const named = [
    profile ? `profile ${profile}` : env.AWS_PROFILE ? `profile ${env.AWS_PROFILE}` : undefined,
    region ?? env.AWS_REGION ?? env.AWS_DEFAULT_REGION,
  ].filter(Boolean);
  const where = endpoint ?? env.AWS_ENDPOINT_URL;
  return {
    kind: "aws",
    ...(profile ? { profile } : {}),
    ...(region ? { region } : {}),
    ...(endpoint ? { endpoint } : {}),
    label: `${where ? `${where}` : "AWS"}${named.length > 0 ? ` (${named.join(", ")})` : ""}`,
  };
}

export function targetClientConfig(target: AwsTarget): TargetClientConfig {
  return {
    ...(target.profile ? { profile: target.profile } : {}),
    ...(target.region ? { region: target.region } : {}),
    ...(target.endpoint ? { endpoint: target.endpoint } : {}),
    ...(target.credentials ? { credentials: { ...target.credentials } } : {}),
    // LocalStack serves S3 on path-style URLs; real S3 prefers virtual-hosted ones.
    ...(target.kind === "local" ? { forcePathStyle: true } : {}),
  };
}

/**
 * The same target for a child process whose SDK clients read only the environment (the worker
 * processes, like a Lambda function): variables that say what `target` says.
 */
export function targetEnvironment(target: AwsTarget): Record<string, string> {
  return {
    ...(target.profile ? { AWS_PROFILE: target.profile } : {}),
    ...(target.region ? { AWS_REGION: target.region } : {}),
    ...(target.endpoint ? { AWS_ENDPOINT_URL: target.endpoint } : {}),
    ...(target.credentials
      ? {
          AWS_ACCESS_KEY_ID: target.credentials.accessKeyId,
          AWS_SECRET_ACCESS_KEY: target.credentials.secretAccessKey,
        }
      : {}),
  };
}

/** Variables that would send a LocalStack child's SDK clients elsewhere; cleared for local targets. */
export const CREDENTIAL_SOURCES = [
  "AWS_PROFILE",
  "AWS_SESSION_TOKEN",
  "AWS_CONTAINER_CREDENTIALS_FULL_URI",
  "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
  "AWS_WEB_IDENTITY_TOKEN_FILE",
] as const;

/**
 * Resolves the target's region and credentials before any real call, so a machine with neither
 * gets one line naming what is missing within seconds instead of a retried, hanging request.
 */
export async function checkTarget(target: AwsTarget, timeoutMs = 10_000): Promise<void> {
  const config = new CloudFormationClient(targetClientConfig(target)).config;
  const who = target.profile ? ` for profile "${target.profile}"` : "";
  const fix =
    "configure a profile (aws configure / aws sso login) and pass --profile, set AWS_ACCESS_KEY_ID and " +
    "AWS_SECRET_ACCESS_KEY, or use --local for LocalStack on this machine";
  await withTimeout(
    (async () => {
      try {
        await config.region();
      } catch {
        throw new TargetConfigError(
          `no AWS region${who}: pass --region, set AWS_REGION, or set region in the profile`,
        );
      }
      try {
        await config.credentials();
      } catch (error) {
        const detail = error instanceof Error ? error.message.split("\n")[0] : String(error);
        throw new TargetConfigError(`no AWS credentials${who} (${detail}): ${fix}`);
      }
    })(),
    timeoutMs,
    () => new TargetConfigError(`no AWS credentials${who} within ${timeoutMs / 1000} s: ${fix}`),
  );
}

async function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(onTimeout()), ms);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
