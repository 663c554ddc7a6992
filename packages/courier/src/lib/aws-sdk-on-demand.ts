/**
 * AWS SDK client modules the consumer runtime needs only on some paths (SQS for failures and tenant
 * controls, S3 for offloaded payloads, CloudWatch for tenant dwell metrics), loaded when first
 * needed from the SDK installed beside the code: on Lambda the runtime's copy, on a laptop the
 * project's node_modules.
 *
 * The specifier reaches `import()` as a parameter on purpose: esbuild bundles an `import()` of a
 * string literal into the bundle, and a bundle with the SDK inside (awsSdk "bundled") would then
 * carry these clients, which every cold start pays for in parse and setup even though they run
 * later: measured, verification-email's import took ~30 % longer with them inside
 * (bench/cold-start.bench.ts). Left as a runtime import, they cost nothing until used.
 */
type SqsModule = typeof import("@aws-sdk/client-sqs");
type S3Module = typeof import("@aws-sdk/client-s3");
type CloudWatchModule = typeof import("@aws-sdk/client-cloudwatch");

function loadAtRuntime<T>(specifier: string): Promise<T> {
  return import(specifier) as Promise<T>;
}

export const loadSqsModule = (): Promise<SqsModule> => loadAtRuntime<SqsModule>("@aws-sdk/client-sqs");
export const loadS3Module = (): Promise<S3Module> => loadAtRuntime<S3Module>("@aws-sdk/client-s3");
export const loadCloudWatchModule = (): Promise<CloudWatchModule> =>
  loadAtRuntime<CloudWatchModule>("@aws-sdk/client-cloudwatch");
