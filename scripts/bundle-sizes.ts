/**
 * Prints the size of each Lambda bundle as `cdk synth` builds it (courier's own bundling definition,
 * `lambdaEsbuildOptions(lambdaBundling(...))`: minified ESM, the AWS SDK bundled but for the
 * credential providers Lambda never reaches, native modules left out, tracing as deployed), raw and
 * gzipped, and how many copies of Powertools' commons package each carries.
 * `npx tsx scripts/bundle-sizes.ts`.
 */
import { gzipSync } from "node:zlib";
import { consumerNames } from "../src/topology.ts";
import { buildConsumerBundle } from "../test/helpers/consumer-bundle.ts";

const rows: string[] = [
  "| function | bundle (KiB) | gzip (KiB) | Powertools commons copies |",
  "| --- | ---: | ---: | ---: |",
];
for (const name of consumerNames) {
  const result = await buildConsumerBundle(name);
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
