/**
 * What each consumer's bundle (built with the options the stack deploys) loads at cold start: the
 * modules it imports statically are loaded before its handler is ready, whatever the code does with
 * them. Failure modes covered: a static import of the SQS client coming back (the runtime needs
 * SQS only for failures, and the module costs every cold start several milliseconds: bench/
 * cold-start.bench.ts); a bundle carrying a package it should not (libphonenumber-js's 118 KiB of
 * metadata, for one calling code; zod's classic entry, ~65 KiB more than zod/mini, or every locale);
 * zod/mini's English messages dropped with the side-effect import that sets them (the package is
 * otherwise free of side effects), which would turn every failure reason into "Invalid input".
 */
import * as lambda from "aws-cdk-lib/aws-lambda";
import { build } from "esbuild";
import { beforeAll, describe, expect, it } from "vitest";
import {
  lambdaBundling,
  lambdaEsbuildOptions,
  newestNodejsRuntime,
} from "../../packages/courier/src/cdk/bundled-function.ts";
import { type ConsumerName, consumerNames, consumers } from "../../src/topology.ts";

interface Built {
  readonly staticImports: readonly string[];
  readonly inputs: readonly string[];
}

const bundles = new Map<ConsumerName, Built>();

beforeAll(async () => {
  for (const name of consumerNames) {
    const consumer = consumers[name];
    const { outputFileName: _file, ...options } = lambdaEsbuildOptions(
      lambdaBundling({
        runtime: newestNodejsRuntime(),
        architecture: lambda.Architecture.ARM_64,
        nativeModules: consumer.needs?.nodeModules ?? [],
        // As the construct deploys a function by default: the OpenTelemetry SDK injected first.
        tracing: "otel",
      }),
    );
    const result = await build({
      ...options,
      entryPoints: [consumer.handlerEntry],
      outfile: `/tmp/courier-bundle-imports/${name}/index.mjs`,
      write: false,
      metafile: true,
      logLevel: "silent",
      conditions: ["courier-source"],
    });
    const output = Object.values(result.metafile.outputs).find((o) => o.entryPoint);
    bundles.set(name, {
      staticImports: (output?.imports ?? []).filter((i) => i.kind === "import-statement").map((i) => i.path),
      // What contributes code: an input esbuild read but emitted nothing of (a re-export) is not counted.
      inputs: Object.entries(output?.inputs ?? {})
        .filter(([, input]) => input.bytesInOutput > 0)
        .map(([path]) => path),
    });
  }
}, 120_000);

describe("what a consumer's bundle loads at cold start", () => {
  it.each(consumerNames)(
    "GIVEN %s's bundle WHEN it loads THEN it does not load the SQS client (failures load it)",
    (name) => {
      const built = bundles.get(name);
      expect(built?.staticImports.length).toBeGreaterThan(0);
      expect(built?.staticImports).not.toContain("@aws-sdk/client-sqs");
    },
  );

  it.each(consumerNames)(
    "GIVEN %s's bundle WHEN its inputs are listed THEN zod is zod/mini with its English messages, no classic zod",
    (name) => {
      const zod = (bundles.get(name)?.inputs ?? []).filter((i) => i.includes("node_modules/zod/"));
      expect(zod.some((i) => i.includes("zod/v4/mini/"))).toBe(true);
      // zod/mini sets no locale; courier's zod-locale.ts does (a dropped side effect leaves "Invalid input").
      expect(zod).toContain("node_modules/zod/v4/locales/en.js");
      // (locales/index.js may leave a few bytes of namespace stub; no other locale's messages.)
      expect(
        zod.filter((i) => i.includes("zod/v4/classic/") || /locales\/(?!en\.js|index\.js)/.test(i)),
      ).toEqual([]);
    },
  );

  it("GIVEN verification-sms's bundle WHEN its inputs are listed THEN libphonenumber-js is not among them", () => {
    const inputs = bundles.get("verification-sms")?.inputs ?? [];
    expect(inputs.some((i) => i.includes("src/app/signup/sms-cap.ts"))).toBe(true);
    expect(inputs.filter((i) => i.includes("libphonenumber-js"))).toEqual([]);
  });
});
