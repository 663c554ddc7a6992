// Builds what the package ships: tsc's ESM JavaScript, declarations and source maps in dist/,
// and the operator console's page bundled once for the browser (dist/console/web/), so an
// installed console needs neither esbuild nor preact at run time.
import { execFileSync } from "node:child_process";
import { rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
rmSync(join(root, "dist"), { recursive: true, force: true });
const tsc = require.resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { stdio: "inherit" });
const { writeConsoleAssets } = await import(join(root, "dist/console/assets.js"));
await writeConsoleAssets(join(root, "src/console/web/main.tsx"), join(root, "dist/console/web"));
