/**
 * The page's script and stylesheet, bundled from `web/` by esbuild (a project dependency already)
 * when the console starts: a few tens of milliseconds, nothing built to commit or to go stale.
 * Served under content-hashed names; the HTML shell names them and carries no inline script.
 */
import { createHash } from "node:crypto";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

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

const ENTRY = fileURLToPath(new URL("./web/main.tsx", import.meta.url));

export async function bundleConsoleAssets(): Promise<ConsoleAssets> {
  const started = performance.now();
  const result = await build({
    entryPoints: [ENTRY],
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
    files.set(path, {
      body: file.contents,
      contentType: isScript ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8",
    });
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
