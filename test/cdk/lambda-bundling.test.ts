import { existsSync } from "node:fs";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { describe, expect, it } from "vitest";
import {
  BUILTIN_SHIMS,
  lambdaBundling,
  lambdaEsbuildOptions,
  mergeBundling,
  OFF_LAMBDA_CREDENTIAL_MODULES,
} from "../../packages/courier/src/cdk/bundled-function.ts";

const target = { runtime: lambda.Runtime.NODEJS_24_X, architecture: lambda.Architecture.ARM_64 };

describe("courier's Lambda bundling, one definition for the stack and for esbuild", () => {
  it("GIVEN courier's bundling WHEN translated THEN esbuild gets minified ESM, source maps, the SDK bundled but for the off-Lambda credential providers", () => {
    const options = lambdaEsbuildOptions(lambdaBundling(target));
    expect(options).toMatchObject({
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node24",
      minify: true,
      sourcemap: true,
      sourcesContent: false,
      mainFields: ["module", "main"],
      external: [...OFF_LAMBDA_CREDENTIAL_MODULES],
      conditions: ["module"],
      outputFileName: "index.mjs",
    });
    // The chain's first provider (environment variables, where Lambda puts the role's credentials) is bundled.
    expect(options.external).not.toContain("@aws-sdk/credential-provider-env");
    expect(options.external).not.toContain("@aws-sdk/credential-provider-node");
    expect(options.banner?.js).toContain("createRequire");
  });

  it("GIVEN native modules WHEN translated THEN they are external too", () => {
    const options = lambdaEsbuildOptions(lambdaBundling({ ...target, nativeModules: ["sharp"] }));
    expect(options.external).toEqual([...OFF_LAMBDA_CREDENTIAL_MODULES, "sharp"]);
  });

  it('GIVEN awsSdk "runtime" WHEN translated THEN every @aws-sdk package is left to the Lambda runtime', () => {
    const options = lambdaEsbuildOptions(
      lambdaBundling({ ...target, awsSdk: "runtime", nativeModules: ["sharp"] }),
    );
    expect(options.external).toEqual(["@aws-sdk/*", "sharp"]);
  });

  // Failure mode: a team's --conditions replaced courier's "module", and esbuild, which drops its
  // default "module" condition once custom ones are set, bundled the SDK's core twice (ESM and CJS).
  it("GIVEN a team's own --conditions WHEN merged over courier's bundling THEN both conditions apply", () => {
    const merged = mergeBundling(lambdaBundling(target), {
      esbuildArgs: { "--conditions": "courier-source" },
    });
    expect(lambdaEsbuildOptions(merged).conditions).toEqual(["module", "courier-source"]);
    // Other flags still merge flag by flag: courier's builtin aliases stay.
    expect(Object.keys(lambdaEsbuildOptions(merged).alias ?? {})).toHaveLength(4);
  });

  it("GIVEN courier's bundling THEN node:http and node:https resolve to CommonJS stand-ins that exist", () => {
    const options = lambdaEsbuildOptions(lambdaBundling(target));
    expect(Object.keys(options.alias ?? {}).sort()).toEqual(["http", "https", "node:http", "node:https"]);
    for (const shim of Object.values(BUILTIN_SHIMS)) expect(existsSync(shim)).toBe(true);
  });

  it("GIVEN a bundling option it does not translate WHEN translated THEN it refuses rather than build something else", () => {
    expect(() => lambdaEsbuildOptions({ ...lambdaBundling(target), loader: { ".png": "file" } })).toThrow(
      /loader/,
    );
  });
});
