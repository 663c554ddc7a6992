/**
 * `courier pause <consumer>` and `courier resume <consumer>`: stop and restart a consumer's pollers
 * while its messages wait in its queue. On AWS the Lambda event source mapping is disabled (found
 * from the stack's output); everywhere the queue gets the `courier:paused` tag that worker
 * processes honour within a few seconds (src/deployment/consumer-pause.ts says why a tag).
 */
import { LambdaClient } from "@aws-sdk/client-lambda";
import type { Command } from "commander";
import { type ConsumerPauseResult, setConsumerPaused } from "../../deployment/consumer-pause.ts";
import { sqsClient } from "../../lib/sqs-client.ts";
import { CliError, emit, type OutputOptions } from "../output.ts";
import {
  commandTarget,
  deployedTopology,
  stackConsumer,
  type TargetCliOptions,
  withTargetOptions,
} from "../target.ts";

interface PauseOptions extends OutputOptions, TargetCliOptions {}

export function register(program: Command): void {
  for (const paused of [true, false]) {
    const verb = paused ? "pause" : "resume";
    const command = program
      .command(verb)
      .description(
        paused
          ? "Stop a consumer's pollers (Lambda's event source mapping and courier workers); its messages wait in its queue"
          : "Start a paused consumer's pollers again",
      )
      .argument("<consumer>", "a consumer of the stack (`courier status` lists them)")
      .option("--json", "machine-readable output");
    withTargetOptions(command).action(async (name: string, options: PauseOptions) => {
      const where = await commandTarget(options);
      const deployed = stackConsumer(await deployedTopology(where), name);
      let result: ConsumerPauseResult;
      try {
        result = await setConsumerPaused({
          sqs: sqsClient(where.config),
          ...(deployed.eventSourceMappingId ? { lambda: new LambdaClient(where.config) } : {}),
          consumer: deployed,
          paused,
        });
      } catch (error) {
        throw new CliError(
          `${verb} "${deployed.name}" on ${where.target.label}: ${(error as Error).message}`,
        );
      }
      emit(options, result, () => resultLine(result));
    });
  }
}

function resultLine(result: ConsumerPauseResult): string {
  const mapping = result.eventSourceMapping
    ? `event source mapping ${result.eventSourceMapping.uuid} ${result.eventSourceMapping.state}`
    : "no event source mapping here (workers only)";
  return result.paused
    ? `${result.consumer}: paused (${mapping}; workers stop within seconds); messages wait in its queue`
    : `${result.consumer}: resumed (${mapping})`;
}
