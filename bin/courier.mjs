#!/usr/bin/env node
// The example's courier CLI, from sources: @courier-queue/courier resolves to its TypeScript (the
// `courier-source` export condition, whichever way this was started) and tsx loads it, no build.
import { register as registerHooks } from "node:module";
import { register } from "tsx/esm/api";

registerHooks(
  "data:text/javascript,export async function resolve(s, c, next) { return next(s, c.conditions.includes('courier-source') ? c : { ...c, conditions: [...c.conditions, 'courier-source'] }); }",
);
register();
await import("../src/main.ts");
