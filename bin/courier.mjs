#!/usr/bin/env node
// The example's courier CLI, from sources: @courier-queue/courier resolves to its TypeScript (the
// `courier-source` export condition, whichever way this was started) and tsx loads it, no build.
// Plain JavaScript up to the version check, so an old Node.js gets one line instead of a trace.
const [major] = process.versions.node.split(".").map(Number);
if (major < 22) {
  console.error(
    `courier: needs Node.js 22 or newer (this is ${process.version}); \`npm start\` and \`npm test\` bring the project's own (.node-version), or install it with nvm`,
  );
  process.exit(1);
}
const { register: registerHooks } = await import("node:module");
const { register } = await import("tsx/esm/api");
registerHooks(
  "data:text/javascript,export async function resolve(s, c, next) { return next(s, c.conditions.includes('courier-source') ? c : { ...c, conditions: [...c.conditions, 'courier-source'] }); }",
);
register();
await import("../src/main.ts");
