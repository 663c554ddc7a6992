/**
 * The one CDK test that bundles for real: the thumbnails function's asset, built the way the stack
 * builds it, must carry sharp's linux ARM64 native binary (the function runs on Graviton) and no
 * binary of the machine that synthesized it. Failure mode covered: an asset that works on the
 * developer's x64 laptop and fails on Lambda with "Could not load the sharp module".
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { App, Stack } from "aws-cdk-lib";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BundledFunction } from "../../packages/courier/src/cdk/bundled-function.ts";
import { consumers } from "../../src/topology.ts";
import "./fixtures.ts";

/** ELF e_machine of AArch64 (ARM64) and x86-64. */
const EM_AARCH64 = 183;
const EM_X86_64 = 62;

let outdir: string;
let asset: string;
let modules: string;

beforeAll(() => {
  outdir = mkdtempSync(join(tmpdir(), "courier-sharp-asset-"));
  const app = new App({ outdir });
  const stack = new Stack(app, "courier-thumbnails-asset");
  const nativeModules = consumers.thumbnails.needs?.nodeModules ?? [];
  new BundledFunction(stack, "Thumbnails", {
    entry: fileURLToPath(new URL(`../../${consumers.thumbnails.handlerEntry}`, import.meta.url)),
    nativeModules,
    // The handler imports the package's sources here, as the example's stack bundles it.
    bundling: { esbuildArgs: { "--conditions": "courier-source" } },
  });
  const assembly = app.synth();
  const assets = readdirSync(assembly.directory).filter((d) => d.startsWith("asset."));
  if (assets.length !== 1) throw new Error(`expected one asset directory, found: ${assets.join(", ")}`);
  asset = join(assembly.directory, assets[0] as string);
  modules = join(asset, "node_modules");
}, 180_000);

afterAll(() => {
  if (outdir) rmSync(outdir, { recursive: true, force: true });
});

/** Every `.node` file (native addon) or shared library under a directory. */
function nativeBinaries(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return nativeBinaries(path);
    return /\.node$|\.so(\.\d+)*$/.test(name) ? [path] : [];
  });
}

function elfMachine(path: string): number {
  const header = readFileSync(path).subarray(0, 20);
  expect(header.subarray(0, 4).toString("latin1")).toBe("\x7fELF");
  return header.readUInt16LE(18);
}

describe("GIVEN the thumbnails function bundled as the stack bundles it", () => {
  it("THEN sharp is installed into the asset, not inlined into the bundle", () => {
    expect(existsSync(join(modules, "sharp", "package.json"))).toBe(true);
  });

  it("THEN the asset holds @img/sharp-linux-arm64 and its libvips", () => {
    expect(existsSync(join(modules, "@img", "sharp-linux-arm64", "package.json"))).toBe(true);
    expect(existsSync(join(modules, "@img", "sharp-libvips-linux-arm64", "package.json"))).toBe(true);
  });

  it("THEN the asset holds no sharp package for another platform (x64, musl, darwin, win32)", () => {
    const platformPackages = readdirSync(join(modules, "@img")).filter((name) => name.startsWith("sharp-"));
    expect(platformPackages.sort()).toEqual(["sharp-libvips-linux-arm64", "sharp-linux-arm64"]);
  });

  it("THEN every native binary in the asset is an ARM64 ELF file, none x86-64", () => {
    const binaries = nativeBinaries(modules);
    expect(binaries.some((b) => b.endsWith(".node"))).toBe(true);
    const machines = binaries.map(elfMachine);
    expect(machines.filter((m) => m === EM_X86_64)).toEqual([]);
    expect(new Set(machines)).toEqual(new Set([EM_AARCH64]));
  });

  it("THEN the handler is minified ESM with a source map beside it", () => {
    const bundle = readFileSync(join(asset, "index.mjs"), "utf8");
    // Minified: long lines (only template literals and legal comments keep line breaks).
    expect(bundle.length / bundle.split("\n").length).toBeGreaterThan(1000);
    expect(bundle).toMatch(/export\s*\{/);
    expect(existsSync(join(asset, "index.mjs.map"))).toBe(true);
  });
});
