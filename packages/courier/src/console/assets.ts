/**
 * The page's script and stylesheet, served under content-hashed names; the HTML shell names them
 * and carries no inline script.
 *
 * The installed package ships them prebuilt (`writeConsoleAssets`, run by scripts/build.mjs, into
 * dist/console/web/), so a console started from it needs neither esbuild nor preact. In this
 * repository the sources are bundled by esbuild when the console starts: a few tens of
 * milliseconds, nothing built to commit or to go stale.
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export interface ConsoleAssets {
  /** Path (under /assets/) to body and content type. */
  readonly files: ReadonlyMap<string, { readonly body: Uint8Array; readonly contentType: string }>;
  readonly scriptPath: string;
  readonly stylePath: string;
  /** Bytes of each file, for the README and the benchmark. */
  readonly sizes: Readonly<Record<string, number>>;
  /** Bytes each package (or "console page" for our own code) contributes to app.js. */
  readonly scriptParts: Readonly<Record<string, number>>;
  readonly buildMs: number;
}

/** What `writeConsoleAssets` leaves beside the files, so a console can serve them as built. */
export const ASSETS_MANIFEST = "assets.json";

interface AssetsManifest {
  readonly script: string;
  readonly style: string;
  readonly sizes: Record<string, number>;
  readonly scriptParts: Record<string, number>;
}

/** Beside this module: src/console/web/ in the repository, dist/console/web/ in the package. */
const WEB_DIR = fileURLToPath(new URL("./web/", import.meta.url));
const SOURCE_ENTRY = join(WEB_DIR, "main.tsx");

const SCRIPT_TYPE = "text/javascript; charset=utf-8";
const STYLE_TYPE = "text/css; charset=utf-8";

/** The prebuilt assets where the package ships them, else the page bundled from its sources. */
export async function loadConsoleAssets(dir: string = WEB_DIR): Promise<ConsoleAssets> {
  if (existsSync(join(dir, ASSETS_MANIFEST))) return readConsoleAssets(dir);
  if (!existsSync(SOURCE_ENTRY)) {
    throw new Error(
      `the console's page is missing (no ${join(dir, ASSETS_MANIFEST)}); reinstall the package`,
    );
  }
  return bundleConsoleAssets();
}

/** Bundles the page from its sources (needs esbuild and preact, which the repository has). */
export async function bundleConsoleAssets(entry: string = SOURCE_ENTRY): Promise<ConsoleAssets> {
  const started = performance.now();
  // Loaded only here: an installed console serves prebuilt files and has no esbuild.
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    minify: true,
    format: "esm",
    target: "es2022",
    jsx: "automatic",
    jsxImportSource: "preact",
    outdir: "out",
    entryNames: "app",
    legalComments: "none",
    logLevel: "silent",
    metafile: true,
  });
  const files = new Map<string, { body: Uint8Array; contentType: string }>();
  let scriptPath = "";
  let stylePath = "";
  const sizes: Record<string, number> = {};
  for (const file of result.outputFiles) {
    const isScript = file.path.endsWith(".js");
    const hash = createHash("sha256").update(file.contents).digest("hex").slice(0, 12);
    const path = `/assets/app.${hash}.${isScript ? "js" : "css"}`;
    files.set(path, { body: file.contents, contentType: isScript ? SCRIPT_TYPE : STYLE_TYPE });
    sizes[isScript ? "app.js" : "app.css"] = file.contents.byteLength;
    if (isScript) scriptPath = path;
    else stylePath = path;
  }
  const scriptParts: Record<string, number> = {};
  for (const [path, output] of Object.entries(result.metafile.outputs)) {
    if (!path.endsWith(".js")) continue;
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
      const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input)?.[1] ?? "console page";
      scriptParts[pkg] = (scriptParts[pkg] ?? 0) + bytesInOutput;
    }
  }
  return {
    files,
    scriptPath,
    stylePath,
    sizes,
    scriptParts,
    buildMs: Math.round(performance.now() - started),
  };
}

/**
 * Bundles the page from `entry` and writes app.<hash>.js, app.<hash>.css and assets.json to
 * `outDir`: what the published package serves (scripts/build.mjs calls it).
 */
export async function writeConsoleAssets(entry: string, outDir: string): Promise<ConsoleAssets> {
  const assets = await bundleConsoleAssets(entry);
  await mkdir(outDir, { recursive: true });
  for (const [path, file] of assets.files) await writeFile(join(outDir, baseName(path)), file.body);
  const manifest: AssetsManifest = {
    script: baseName(assets.scriptPath),
    style: baseName(assets.stylePath),
    sizes: { ...assets.sizes },
    scriptParts: { ...assets.scriptParts },
  };
  await writeFile(join(outDir, ASSETS_MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
  return assets;
}

/** Reads what `writeConsoleAssets` wrote. */
export async function readConsoleAssets(dir: string): Promise<ConsoleAssets> {
  const started = performance.now();
  const manifest = JSON.parse(await readFile(join(dir, ASSETS_MANIFEST), "utf8")) as AssetsManifest;
  const files = new Map<string, { body: Uint8Array; contentType: string }>();
  for (const [name, contentType] of [
    [manifest.script, SCRIPT_TYPE],
    [manifest.style, STYLE_TYPE],
  ] as const) {
    // Names come from our own build, but a path in them would reach outside the folder.
    if (!/^app\.[0-9a-f]+\.(js|css)$/.test(name))
      throw new Error(`${ASSETS_MANIFEST}: bad file name "${name}"`);
    files.set(`/assets/${name}`, { body: await readFile(join(dir, name)), contentType });
  }
  return {
    files,
    scriptPath: `/assets/${manifest.script}`,
    stylePath: `/assets/${manifest.style}`,
    sizes: manifest.sizes,
    scriptParts: manifest.scriptParts,
    buildMs: Math.round(performance.now() - started),
  };
}

function baseName(assetPath: string): string {
  return assetPath.slice(assetPath.lastIndexOf("/") + 1);
}
