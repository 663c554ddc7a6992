#!/usr/bin/env node
// The courier CLI. Plain JavaScript that any Node.js parses, so an old runtime gets one line saying
// what is needed instead of a stack trace from a module it cannot load.
const [major] = process.versions.node.split(".").map(Number);
if (major < 22) {
  console.error(
    `courier: needs Node.js 22 or newer (this is ${process.version}); install it from https://nodejs.org or with nvm, fnm or volta`,
  );
  process.exit(1);
}
const { runCli } = await import("../dist/cli/index.js");
await runCli();
