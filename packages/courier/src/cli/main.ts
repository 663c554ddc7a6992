/**
 * The operator commands and how the CLI runs them. The executable (src/main.ts) adds the dev-only
 * commands (`local`, `start`) on top; this layer knows nothing of them.
 */
import { CommanderError } from "commander";
import { register as registerConsole } from "./commands/console.ts";
import { register as registerDlq } from "./commands/dlq.ts";
import { register as registerPause } from "./commands/pause.ts";
import { register as registerPublish } from "./commands/publish.ts";
import { register as registerRedrive } from "./commands/redrive.ts";
import { register as registerStatus } from "./commands/status.ts";
import { register as registerWork } from "./commands/work.ts";
import { CliError, oneLineReason } from "./output.ts";
import { buildProgram, type RegisterCommand } from "./program.ts";

// One entry per command module; keep sorted.
export const operatorCommands: readonly RegisterCommand[] = [
  registerConsole,
  registerDlq,
  registerPause,
  registerPublish,
  registerRedrive,
  registerStatus,
  registerWork,
];

export async function runCli(commands: readonly RegisterCommand[], argv = process.argv): Promise<void> {
  const program = buildProgram(commands);
  try {
    await program.parseAsync(argv);
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander already printed its message (help, version or a usage error).
      process.exitCode = error.exitCode;
    } else {
      process.stderr.write(`courier: ${oneLineReason(error)}\n`);
      process.exitCode = error instanceof CliError ? error.exitCode : 1;
    }
  }
}
