/**
 * Prints the size of each Lambda bundle as `cdk synth` builds it (courier's own bundling definition,
 * `lambdaEsbuildOptions(lambdaBundling(...))`: minified ESM, the AWS SDK bundled but for the
 * credential providers Lambda never reaches, native modules left out, tracing as deployed), raw and
 * gzipped, and how many copies of Powertools' commons package each carries.
 * `npx tsx scripts/bundle-sizes.ts`.
 */
import { gzipSync } from "node:zlib";
import { lambdaBundling, lambdaEsbuildOptions, newestNodejsRuntime } from "@courier-queue/courier/cdk";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { build } from "esbuild";
import { consumerNames, consumers } from "../src/topology.ts";

const rows: string[] = [
  "| function | bundle (KiB) | gzip (KiB) | Powertools commons copies |",
  "| --- | ---: | ---: | ---: |",
];
for (const name of consumerNames) {
  const consumer = consumers[name];
  const { outputFileName: _file, ...options } = lambdaEsbuildOptions(
    lambdaBundling({
      runtime: newestNodejsRuntime(),
      architecture: lambda.Architecture.ARM_64,
      nativeModules: consumer.needs?.nodeModules ?? [],
      tracing: "otel",
    }),
  );
  const result = await build({
    ...options,
    entryPoints: [consumer.handlerEntry],
    outfile: `/tmp/courier-bundle-sizes/${name}/index.mjs`,
    write: false,
    metafile: true,
    logLevel: "silent",
    // This repository's sources of the package, as its stack bundles them.
    conditions: [...(options.conditions ?? []), "courier-source"],
  });
  const code = result.outputFiles.find((f) => f.path.endsWith(".mjs"))?.contents ?? new Uint8Array();
  const commons = new Set(
    Object.keys(result.metafile.inputs)
      .map((path) => /node_modules\/(?:.*node_modules\/)?@aws-lambda-powertools\/commons\//.exec(path)?.[0])
      .filter(Boolean),
  );
  rows.push(
    `| ${name} | ${(code.byteLength / 1024).toFixed(1)} | ${(gzipSync(code).byteLength / 1024).toFixed(1)} | ${commons.size} |`,
  );
}
process.stdout.write(`${rows.join("\n")}\n`);
