/**
 * One example consumer's Lambda bundle, built in memory with the options the stack deploys it with
 * (courier's `lambdaBundling`, traced as deployed, this repository's sources of the package), for
 * tests and scripts that read what a bundle holds.
 */
import * as lambda from "aws-cdk-lib/aws-lambda";
import { build } from "esbuild";
import {
  type AwsSdkSource,
  lambdaBundling,
  lambdaEsbuildOptions,
  newestNodejsRuntime,
} from "../../packages/courier/src/cdk/index.ts";
import { type ConsumerName, consumers } from "../../src/topology.ts";

export async function buildConsumerBundle(name: ConsumerName, awsSdk: AwsSdkSource = "bundled") {
  const consumer = consumers[name];
  const { outputFileName, ...options } = lambdaEsbuildOptions(
    lambdaBundling({
      runtime: newestNodejsRuntime(),
      architecture: lambda.Architecture.ARM_64,
      nativeModules: consumer.needs?.nodeModules ?? [],
      // As the construct deploys a function by default: the OpenTelemetry SDK injected first.
      tracing: "otel",
      awsSdk,
    }),
  );
  return build({
    ...options,
    entryPoints: [consumer.handlerEntry],
    outfile: `/tmp/courier-consumer-bundles/${awsSdk}/${name}/${outputFileName}`,
    write: false,
    metafile: true,
    logLevel: "silent",
    conditions: [...(options.conditions ?? []), "courier-source"],
  });
}
