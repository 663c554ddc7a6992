/**
 * Prints the size of each Lambda bundle as `cdk synth` builds it (esbuild, minified ESM for
 * node24, AWS SDK v3 external as in the Lambda runtime, native modules left out), raw and gzipped,
 * and how many copies of Powertools' commons package each carries. `npx tsx scripts/bundle-sizes.ts`.
 */
import { readdirSync } from "node:fs";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const handlers = readdirSync("lambdas").map((name) => ({ name, entry: `lambdas/${name}/handler.ts` }));
const rows: string[] = [
  "| function | bundle (KiB) | gzip (KiB) | Powertools commons copies |",
  "| --- | ---: | ---: | ---: |",
];
for (const { name, entry } of handlers) {
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    minify: true,
    format: "esm",
    platform: "node",
    target: "node24",
    mainFields: ["module", "main"],
    external: ["@aws-sdk/*", "sharp"],
    metafile: true,
    logLevel: "silent",
  });
  const code = result.outputFiles[0]?.contents ?? new Uint8Array();
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
