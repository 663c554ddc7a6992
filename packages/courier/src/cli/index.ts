/**
 * `@courier-queue/courier/cli`: the operator commands and how the CLI runs them, for the package's
 * `courier` bin and for a team's own executable that adds commands of its own:
 *
 *   await runCli([...operatorCommands, registerMine]);
 *
 * Every command operates a deployed stack from the manifest its courier construct left in the
 * stack's outputs, so it works on any courier stack, named with --stack or COURIER_STACK.
 */
import { CommanderError } from "commander";
import { register as registerArchive } from "./commands/archive.ts";
import { register as registerConsole } from "./commands/console.ts";
import { register as registerDlq } from "./commands/dlq.ts";
import { register as registerPause } from "./commands/pause.ts";
import { register as registerPublish } from "./commands/publish.ts";
import { register as registerRedrive } from "./commands/redrive.ts";
import { register as registerReplay } from "./commands/replay.ts";
import { register as registerStatus } from "./commands/status.ts";
import { register as registerTenant } from "./commands/tenant.ts";
import { register as registerTrace } from "./commands/trace.ts";
import { register as registerWork } from "./commands/work.ts";
import { CliError, oneLineReason } from "./output.ts";
import { buildProgram, type RegisterCommand } from "./program.ts";

// The console and queue-age readers, for an executable that serves the console itself (the
// example's `npm start` does, against LocalStack).
export { type RunningConsole, type StartConsoleOptions, startConsole } from "../console/server.ts";
export {
  localStackPeek,
  type OldestAge,
  oldestAgeFromCloudWatch,
  oldestAgeFromPeek,
} from "../deployment/consumer-status.ts";
// Finding a message (`courier trace`, the console's "Find a message"): the same function for both.
export {
  type Attempt,
  type AttemptOutcome,
  buildJourney,
  type Delivery,
  formatJourney,
  InvalidTraceQueryError,
  type LogLine,
  logLinesFromText,
  type MessageJourney,
  type MessageTrail,
  type Publication,
  type Redrive,
  readSpanFile,
  type SideEffect,
  type SpanRecord,
  spanRecordsFromOtlp,
  spanRecordsFromXray,
  type TraceMessageOptions,
  type TraceSource,
  traceMessage,
} from "../deployment/message-trace/index.ts";
export { LOCAL_SPANS_FILE, LOCAL_WORKER_LOG_FILE } from "./commands/trace.ts";
export { CliError, emit, type OutputOptions, oneLineReason } from "./output.ts";
export { buildProgram, type RegisterCommand } from "./program.ts";
export {
  type CommandTarget,
  commandTarget,
  deployedTopology,
  STACK_ENV,
  stackConsumer,
  stackName,
  stackTopic,
  type TargetCliOptions,
  withTargetOptions,
} from "./target.ts";

// One entry per command module; keep sorted.
export const operatorCommands: readonly RegisterCommand[] = [
  registerArchive,
  registerConsole,
  registerDlq,
  registerPause,
  registerPublish,
  registerRedrive,
  registerReplay,
  registerStatus,
  registerTenant,
  registerTrace,
  registerWork,
];

/**
 * Parses `argv` and runs the command it names. Never throws: a failure is one line on stderr
 * (`courier: <reason>`) and a non-zero `process.exitCode` (a CliError's own, else 1).
 */
export async function runCli(
  commands: readonly RegisterCommand[] = operatorCommands,
  argv: readonly string[] = process.argv,
): Promise<void> {
  const program = buildProgram(commands);
  try {
    await program.parseAsync([...argv]);
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
