/**
 * Builds the `courier` command tree. Each command lives in `commands/<name>.ts` and exports
 * `register(program)`; add a command by adding it to the list in index.ts (or, in a team's own
 * executable, to the list it passes to `runCli`).
 */
import { readFileSync } from "node:fs";
import { Command } from "commander";

export type RegisterCommand = (program: Command) => void;

/** The package's version: package.json is two levels up from both src/cli and dist/cli. */
function packageVersion(): string | undefined {
  try {
    const text = readFileSync(new URL("../../package.json", import.meta.url), "utf8");
    return (JSON.parse(text) as { version?: string }).version;
  } catch {
    return undefined;
  }
}

export function buildProgram(commands: readonly RegisterCommand[]): Command {
  const program = new Command()
    .name("courier")
    .description(
      "Durable asynchronous work on SNS, SQS and Lambda: operate a deployed courier stack, named with --stack or COURIER_STACK.",
    )
    .showHelpAfterError()
    .exitOverride();
  const version = packageVersion();
  if (version) program.version(version, "-V, --version", "print the courier package's version");
  for (const register of commands) register(program);
  return program;
}
