/**
 * What installing @courier-queue/courier costs a team, measured from the packed tarball in one run
 * beside the peer a team would otherwise install: the tarball; packages and MiB that `npm install`
 * adds to a producer-or-consumer project (tarball + zod) and to a CDK project (beside aws-cdk-lib
 * and constructs it already has); and the Lambda bundle of one consumer built as the construct
 * builds it (esbuild, minified ESM, AWS SDK external), beside the same consumer written with
 * Powertools' BatchProcessor and Logger alone.
 *
 * Installs use the npm cache (--prefer-offline). Run alone: npx tsx bench/package-footprint.bench.ts
 */
import { execFile } from "node:child_process";
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { lambdaBundling, lambdaEsbuildOptions, newestNodejsRuntime } from "@courier-queue/courier/cdk";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { build } from "esbuild";
import type { Benchmark, BenchResult, Row } from "./lib/benchmark.ts";
import { round } from "./lib/stats.ts";

const run = promisify(execFile);
const repo = fileURLToPath(new URL("../", import.meta.url));
const fixtures = join(repo, "bench/package-fixtures");

async function lockedVersion(name: string): Promise<string> {
  const lock = JSON.parse(await readFile(join(repo, "package-lock.json"), "utf8")) as {
    packages: Record<string, { version?: string }>;
  };
  const version = lock.packages[`node_modules/${name}`]?.version;
  if (!version) throw new Error(`${name} is not in package-lock.json`);
  return version;
}

async function npm(cwd: string, args: string[]): Promise<string> {
  const { stdout } = await run("npm", args, {
    cwd,
    maxBuffer: 64 * 1024 * 1024,
    env: { ...process.env, NODE_OPTIONS: "" },
  });
  return stdout;
}

async function project(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  await writeFile(
    join(dir, "package.json"),
    JSON.stringify({ name: "footprint", private: true, type: "module" }),
  );
}

async function install(dir: string, specs: string[]): Promise<void> {
  await npm(dir, ["install", "--no-audit", "--no-fund", "--prefer-offline", "--loglevel=error", ...specs]);
}

/** Installed packages (entries of npm's lockfile, nested copies included), MiB on disk (du) and aws-cdk-lib copies. */
async function footprint(dir: string): Promise<{ packages: number; mib: number; cdkCopies: number }> {
  const lock = JSON.parse(await readFile(join(dir, "package-lock.json"), "utf8")) as {
    packages: Record<string, { link?: boolean }>;
  };
  const installed = Object.keys(lock.packages).filter((path) => path.includes("node_modules/"));
  const du = await run("du", ["-sk", "node_modules"], { cwd: dir });
  return {
    packages: installed.length,
    mib: round(Number(du.stdout.split("\t")[0]) / 1024, 0),
    cdkCopies: installed.filter((path) => /(^|\/)node_modules\/aws-cdk-lib$/.test(path)).length,
  };
}

/** The bundle the construct builds for a handler (its own bundling definition), and its largest packages. */
async function bundle(entry: string): Promise<{ kib: number; largest: string }> {
  const { outputFileName: _name, ...options } = lambdaEsbuildOptions(
    lambdaBundling({ runtime: newestNodejsRuntime(), architecture: lambda.Architecture.ARM_64 }),
  );
  const result = await build({
    ...options,
    entryPoints: [entry],
    outfile: join(dirname(entry), "out", "index.mjs"),
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const bytes = result.outputFiles.find((f) => !f.path.endsWith(".map"))?.contents.byteLength ?? 0;
  const byPackage = new Map<string, number>();
  for (const output of Object.values(result.metafile.outputs)) {
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const match = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
      const name = match?.[1] ?? "handler";
      byPackage.set(name, (byPackage.get(name) ?? 0) + bytesInOutput);
    }
  }
  const largest = [...byPackage.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, 4)
    .map(([name, b]) => `${name} ${round(b / 1024, 0)}`)
    .join(", ");
  return { kib: round(bytes / 1024, 0), largest };
}

export const benchmark: Benchmark = {
  name: "package-footprint",
  description:
    "tarball, npm install footprint and a consumer's Lambda bundle: courier's package beside Powertools alone",
  usesLocalStack: false,
  async run({ log }): Promise<BenchResult> {
    const work = await mkdtemp(join(tmpdir(), "courier-footprint-"));
    try {
      const [zod, cdk, constructs, batch, logger] = await Promise.all(
        [
          "zod",
          "aws-cdk-lib",
          "constructs",
          "@aws-lambda-powertools/batch",
          "@aws-lambda-powertools/logger",
        ].map(lockedVersion),
      );
      log("  packing @courier-queue/courier (builds dist/)");
      const packed = JSON.parse(
        await npm(join(repo, "packages/courier"), ["pack", "--json", "--pack-destination", work]),
      ) as Array<{
        filename: string;
        size: number;
        unpackedSize: number;
        entryCount: number;
      }>;
      const tarball = packed[0];
      if (!tarball) throw new Error("npm pack printed no tarball");
      const tgz = join(work, tarball.filename);

      log("  peer: Powertools batch + logger + zod");
      const peer = join(work, "peer");
      await project(peer);
      await install(peer, [
        `@aws-lambda-powertools/batch@${batch}`,
        `@aws-lambda-powertools/logger@${logger}`,
        `zod@${zod}`,
      ]);
      await copyFile(join(fixtures, "powertools-consumer.ts"), join(peer, "handler.ts"));
      const peerSize = await footprint(peer);
      const peerBundle = await bundle(join(peer, "handler.ts"));

      log("  producer/consumer project: the tarball + zod");
      const producer = join(work, "producer");
      await project(producer);
      await install(producer, [tgz, `zod@${zod}`]);
      await copyFile(join(fixtures, "courier-consumer.ts"), join(producer, "handler.ts"));
      const producerSize = await footprint(producer);
      const courierBundle = await bundle(join(producer, "handler.ts"));

      log("  CDK project: aws-cdk-lib + constructs, then the tarball");
      const cdkProject = join(work, "cdk");
      await project(cdkProject);
      await install(cdkProject, [`aws-cdk-lib@${cdk}`, `constructs@${constructs}`, `zod@${zod}`]);
      const cdkBefore = await footprint(cdkProject);
      await install(cdkProject, [tgz]);
      const cdkAfter = await footprint(cdkProject);

      const row = (scenario: string, cells: Partial<Row>): Row => ({
        scenario,
        "packages added": "",
        "MiB added": "",
        "aws-cdk-lib copies": "",
        "bundle KiB": "",
        "largest in bundle (KiB)": "",
        ...cells,
      });
      return {
        rows: [
          row("Powertools batch + logger + zod, the same consumer (peer)", {
            "packages added": peerSize.packages,
            "MiB added": peerSize.mib,
            "aws-cdk-lib copies": peerSize.cdkCopies,
            "bundle KiB": peerBundle.kib,
            "largest in bundle (KiB)": peerBundle.largest,
          }),
          row(
            `@courier-queue/courier + zod, a producer or consumer (tarball ${round(tarball.size / 1024, 0)} KiB, ${tarball.entryCount} files)`,
            {
              "packages added": producerSize.packages,
              "MiB added": producerSize.mib,
              "aws-cdk-lib copies": producerSize.cdkCopies,
              "bundle KiB": courierBundle.kib,
              "largest in bundle (KiB)": courierBundle.largest,
            },
          ),
          row("@courier-queue/courier into a CDK project (aws-cdk-lib, constructs, zod there)", {
            "packages added": cdkAfter.packages - cdkBefore.packages,
            "MiB added": cdkAfter.mib - cdkBefore.mib,
            "aws-cdk-lib copies": cdkAfter.cdkCopies,
          }),
        ],
        notes: [
          `Tarball: ${round(tarball.size / 1024, 0)} KiB packed, ${round(tarball.unpackedSize / 1024, 0)} KiB unpacked, ${tarball.entryCount} files (npm pack --json in packages/courier).`,
          "Packages: entries of the project's package-lock.json after the install (nested copies included); MiB: du -sk of node_modules, as the before figures were taken.",
          'Bundles: esbuild with the construct\'s own bundling definition (lambdaBundling: minified ESM for the default runtime, the AWS SDK bundled as the construct deploys it by default (awsSdk "bundled"), node:http stand-ins).',
          "Before the package (commit ebac2a9, measured the same way by hand): tarball 913 KiB / 380 files of TypeScript only; a producer-only install added 114 packages / 318 MiB (aws-cdk-lib, sharp, the example's dependencies); a consumer bundle was 668 KiB.",
        ],
      };
    } finally {
      await rm(work, { recursive: true, force: true });
    }
  },
};

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const result = await benchmark.run({
    endpoint: "",
    messages: undefined,
    log: (l) => process.stderr.write(`${l}\n`),
  });
  console.table(result.rows);
  for (const note of result.notes ?? []) console.log(note);
}
