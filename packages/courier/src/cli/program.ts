/**
 * Builds the `courier` command tree. Each command lives in `commands/<name>.ts` and exports
 * `register(program)`; add a command by adding it to the list below.
 */
import { Command } from "commander";

export type RegisterCommand = (program: Command) => void;

export function buildProgram(commands: readonly RegisterCommand[]): Command {
  const program = new Command()
    .name("courier")
    .description("Durable asynchronous work on SNS, SQS and Lambda: operate a courier deployment.")
    .showHelpAfterError()
    .exitOverride();
  for (const register of commands) register(program);
  return program;
}
