#!/usr/bin/env node
// The repository's courier executable: the package's operator CLI plus the example's dev commands
// (`local`, `start`). Plain JavaScript up to the version check, so an old Node.js gets one line.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const [major] = process.versions.node.split(".").map(Number);
if (major < 22) {
  console.error(
    `courier: needs Node.js 22 or newer (this is ${process.version}); \`npm start\` and \`npm test\` bring the project's own (.node-version), or install it with nvm`,
  );
  process.exit(1);
}
// In this repository @courier-queue/courier resolves to its TypeScript sources under the
// "courier-source" condition (npm scripts set it through .npmrc); run directly, set it here.
const conditioned = [...process.execArgv, process.env.NODE_OPTIONS ?? ""].some((a) => a.includes("courier-source"));
if (!conditioned) {
  const run = spawnSync(
    process.execPath,
    ["--conditions=courier-source", ...process.execArgv, fileURLToPath(import.meta.url), ...process.argv.slice(2)],
    { stdio: "inherit" },
  );
  process.exit(run.status ?? 1);
}
const { register } = await import("tsx/esm/api");
register();
await import("../src/main.ts");
