/**
 * `courier pause <consumer>` and `courier resume <consumer>`: stop and restart a consumer's pollers
 * while its messages wait in its queue. On AWS the Lambda event source mapping is disabled (found
 * from the stack's output); everywhere the queue gets the `courier:paused` tag that worker
 * processes honour within a few seconds (src/deployment/consumer-pause.ts says why a tag).
 */
import { LambdaClient } from "@aws-sdk/client-lambda";
import type { Command } from "commander";
import { type ConsumerPauseResult, setConsumerPaused } from "../../deployment/consumer-pause.ts";
import { consumerNames } from "../../../../../src/topology.ts";
import { sqsClient } from "../../lib/sqs-client.ts";
import { CliError, emit, type OutputOptions } from "../output.ts";
import { commandTarget, type TargetCliOptions, withTargetOptions } from "../target.ts";
import { deployedConsumer, knownConsumer } from "./dlq.ts";

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
      .argument("<consumer>", `one of: ${consumerNames.join(", ")}`)
      .option("--json", "machine-readable output");
    withTargetOptions(command).action(async (consumer: string, options: PauseOptions) => {
      const spec = knownConsumer(consumer);
      const where = await commandTarget(options);
      const deployed = await deployedConsumer(where, spec);
      let result: ConsumerPauseResult;
      try {
        result = await setConsumerPaused({
          sqs: sqsClient(where.config),
          ...(deployed.eventSourceMappingId ? { lambda: new LambdaClient(where.config) } : {}),
          consumer: { ...deployed, name: spec.name },
          paused,
        });
      } catch (error) {
        throw new CliError(`${verb} "${spec.name}" on ${where.target.label}: ${(error as Error).message}`);
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
