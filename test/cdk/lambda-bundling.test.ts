import { existsSync } from "node:fs";
import * as lambda from "aws-cdk-lib/aws-lambda";
import { describe, expect, it } from "vitest";
import {
  BUILTIN_SHIMS,
  lambdaBundling,
  lambdaEsbuildOptions,
} from "../../packages/courier/src/cdk/bundled-function.ts";

const target = { runtime: lambda.Runtime.NODEJS_24_X, architecture: lambda.Architecture.ARM_64 };

describe("courier's Lambda bundling, one definition for the stack and for esbuild", () => {
  it("GIVEN courier's bundling WHEN translated THEN esbuild gets minified ESM, source maps, the SDK external", () => {
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
      external: ["@aws-sdk/*"],
      outputFileName: "index.mjs",
    });
    expect(options.banner?.js).toContain("createRequire");
  });

  it("GIVEN native modules WHEN translated THEN they are external too", () => {
    const options = lambdaEsbuildOptions(lambdaBundling({ ...target, nativeModules: ["sharp"] }));
    expect(options.external).toEqual(["@aws-sdk/*", "sharp"]);
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
