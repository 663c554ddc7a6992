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
const nodeModule = await import("node:module");
const { register } = await import("tsx/esm/api");
// Add the condition to every resolution: synchronous hooks where Node.js has them (module.register
// is deprecated from Node.js 26), the loader thread before.
const withCondition = (context) =>
  context.conditions.includes("courier-source")
    ? context
    : { ...context, conditions: [...context.conditions, "courier-source"] };
if (nodeModule.registerHooks) {
  nodeModule.registerHooks({
    resolve: (specifier, context, next) => next(specifier, withCondition(context)),
  });
} else {
  nodeModule.register(
    "data:text/javascript,export async function resolve(s, c, next) { return next(s, c.conditions.includes('courier-source') ? c : { ...c, conditions: [...c.conditions, 'courier-source'] }); }",
  );
}
register();
await import("../src/main.ts");
