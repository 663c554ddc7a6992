/**
 * AWS SDK client modules the consumer runtime needs only on some consumers' paths (S3 for offloaded
 * payloads, CloudWatch for tenant dwell metrics), loaded when first needed from the SDK installed
 * beside the code: on Lambda the runtime's copy, on a laptop the project's node_modules. (SQS, which
 * every consumer needs for its failures and a tenant consumer for its first batch, is imported
 * statically: bundled and tree-shaken it costs a cold start ~0-7 ms, where loading the runtime's
 * copy at the first failure cost that failure about 50 ms: bench/cold-start.bench.ts.)
 *
 * The specifier reaches `import()` as a parameter on purpose: esbuild bundles an `import()` of a
 * string literal into the bundle, and a bundle with the SDK inside (awsSdk "bundled") would then
 * carry these clients, which every cold start pays for in parse and setup even though they run
 * later: measured, verification-email's import took ~30 % longer with them inside
 * (bench/cold-start.bench.ts). Left as a runtime import, they cost nothing until used.
 */
type S3Module = typeof import("@aws-sdk/client-s3");
type CloudWatchModule = typeof import("@aws-sdk/client-cloudwatch");

function loadAtRuntime<T>(specifier: string): Promise<T> {
  return import(specifier) as Promise<T>;
}

export const loadS3Module = (): Promise<S3Module> => loadAtRuntime<S3Module>("@aws-sdk/client-s3");
export const loadCloudWatchModule = (): Promise<CloudWatchModule> =>
  loadAtRuntime<CloudWatchModule>("@aws-sdk/client-cloudwatch");
