/**
 * What each consumer's bundle (built with the options the stack deploys) loads at cold start: the
 * modules it imports statically are loaded before its handler is ready, whatever the code does with
 * them. Failure modes covered, with the SDK bundled (awsSdk "bundled", the default): an SDK package
 * left external by mistake (loaded from the runtime's CommonJS build, a second SDK core: the slow
 * path the default exists to avoid); the SDK's core bundled twice, as ES modules and as CommonJS
 * (esbuild's "module" condition lost); the SQS client bundled whole instead of the commands the
 * runtime sends; a client only some consumers need (S3 for payload pointers, CloudWatch for tenant
 * metrics) written as an `import()` esbuild follows, which puts it in every bundle, where it costs
 * every cold start its parse. With the runtime's SDK (awsSdk "runtime"): a client the runtime loads
 * on demand imported at cold start. And for every bundle: a package it should not carry
 * (libphonenumber-js's 118 KiB of metadata, for one calling code; zod's classic entry, ~65 KiB more
 * than zod/mini, or every locale); zod/mini's English messages dropped with the side-effect import
 * that sets them (the package is otherwise free of side effects), which would turn every failure
 * reason into "Invalid input".
 */
import { isBuiltin } from "node:module";
import { beforeAll, describe, expect, it } from "vitest";
import {
  type AwsSdkSource,
  OFF_LAMBDA_CREDENTIAL_MODULES,
} from "../../packages/courier/src/cdk/bundled-function.ts";
import { type ConsumerName, consumerNames, consumers } from "../../src/topology.ts";
import { buildConsumerBundle } from "../helpers/consumer-bundle.ts";

interface Built {
  readonly staticImports: readonly string[];
  readonly inputs: readonly string[];
}

const bundles = new Map<ConsumerName, Built>();
const runtimeSdkBundles = new Map<ConsumerName, Built>();

async function bundle(name: ConsumerName, awsSdk: AwsSdkSource): Promise<Built> {
  const result = await buildConsumerBundle(name, awsSdk);
  const output = Object.values(result.metafile.outputs).find((o) => o.entryPoint);
  // What contributes code: an input esbuild read but emitted nothing of (a re-export) is not counted.
  const inputs = Object.entries(output?.inputs ?? {})
    .filter(([, input]) => input.bytesInOutput > 0)
    .map(([path]) => path);
  return {
    staticImports: (output?.imports ?? []).filter((i) => i.kind === "import-statement").map((i) => i.path),
    inputs,
  };
}

beforeAll(async () => {
  for (const name of consumerNames) {
    bundles.set(name, await bundle(name, "bundled"));
    runtimeSdkBundles.set(name, await bundle(name, "runtime"));
  }
}, 180_000);

describe("what a consumer's bundle loads at cold start", () => {
  /** The consumers whose own handler imports the S3 client. */
  const usesS3 = (name: ConsumerName) => ["thumbnails", "account-export"].includes(name);

  it.each(consumerNames)(
    "GIVEN %s's bundle with the runtime's SDK WHEN it loads THEN it imports S3 only if its handler does, and never CloudWatch (the runtime loads them on demand)",
    (name) => {
      const imports = runtimeSdkBundles.get(name)?.staticImports ?? [];
      expect(imports).toContain("@aws-sdk/client-sqs");
      expect(imports.includes("@aws-sdk/client-s3")).toBe(usesS3(name));
      expect(imports).not.toContain("@aws-sdk/client-cloudwatch");
    },
  );

  it.each(consumerNames)(
    "GIVEN %s's bundle with the SDK bundled WHEN its inputs are listed THEN it carries SQS's commands the runtime sends, S3 only if its handler uses it, and no CloudWatch",
    (name) => {
      const inputs = bundles.get(name)?.inputs ?? [];
      const sqs = inputs.filter((i) => i.includes("node_modules/@aws-sdk/client-sqs/"));
      expect(sqs.some((i) => i.endsWith("commands/SendMessageBatchCommand.js"))).toBe(true);
      // Tree-shaken: not the aggregated client, not a command the runtime never sends.
      expect(sqs.filter((i) => /\/SQS\.js$|ReceiveMessageCommand|PurgeQueueCommand/.test(i))).toEqual([]);
      expect(inputs.some((i) => i.includes("node_modules/@aws-sdk/client-s3/"))).toBe(usesS3(name));
      expect(inputs.filter((i) => i.includes("node_modules/@aws-sdk/client-cloudwatch/"))).toEqual([]);
    },
  );

  it.each(consumerNames)(
    "GIVEN %s's bundle with the SDK bundled WHEN its external imports are listed THEN they are Node.js builtins, the off-Lambda credential providers and its native modules only",
    (name) => {
      const allowed = new Set([
        ...OFF_LAMBDA_CREDENTIAL_MODULES,
        ...(consumers[name].needs?.nodeModules ?? []),
      ]);
      const external = (bundles.get(name)?.staticImports ?? []).filter(
        (i) => !i.startsWith("node:") && !isBuiltin(i) && !allowed.has(i),
      );
      expect(external).toEqual([]);
    },
  );

  it.each(consumerNames)(
    "GIVEN %s's bundle with the SDK bundled WHEN its inputs are listed THEN the SDK's core is there once, as ES modules",
    (name) => {
      const inputs = bundles.get(name)?.inputs ?? [];
      expect(inputs.some((i) => i.includes("node_modules/@smithy/core/dist-es/"))).toBe(true);
      expect(inputs.filter((i) => /node_modules\/@(smithy|aws-sdk)\/[^/]+\/dist-cjs\//.test(i))).toEqual([]);
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
