/**
 * `courier start` (`npm start`): the whole system on this machine. Prints where to look, then a
 * line per handled message (or, with --json-logs, the handlers' raw JSON logs and a line of counts
 * per consumer); Ctrl-C stops everything it started without losing a message.
 */

import { CliError, type OutputOptions } from "@courier-queue/courier/cli";
import { formatOutcomeLine, wantsColour } from "@courier-queue/courier/worker";
import type { Command } from "commander";
import { DEFAULT_STACK_NAME, UPLOADS_BUCKET_OUTPUT } from "../../app/deployment/example-outputs.ts";

interface StartOptions extends OutputOptions {
  stack: string;
  port: string;
  interval: string;
  jsonLogs?: boolean;
  bundles?: boolean;
}

export function register(program: Command): void {
  program
    .command("start")
    .description(
      "Bring up the local system: LocalStack and the stack, every consumer, and the example API server",
    )
    .option("--stack <name>", "CloudFormation stack name", DEFAULT_STACK_NAME)
    .option("--port <port>", "example API server port", "3000")
    .option("--interval <seconds>", "seconds between consumer count lines (with --json-logs)", "5")
    .option(
      "--json-logs",
      "the handlers' raw Powertools JSON log lines and EMF metrics instead of a line per handled message",
    )
    .option(
      "--bundles",
      "run the consumers' deployed bundles (synthesized with bundling on, as cdk synth does) instead of their sources; also COURIER_RUN_BUNDLES=1",
    )
    .action(async (options: StartOptions) => {
      const port = Number(options.port);
      const intervalMs = Number(options.interval) * 1000;
      if (!Number.isInteger(port) || port < 0 || port > 65535)
        throw new CliError(`--port must be 0-65535`, 2);
      if (!(intervalMs > 0)) throw new CliError(`--interval must be a positive number of seconds`, 2);
      const say = (line: string) => process.stdout.write(`${line}\n`);
      // Loaded here: it pulls in the CDK app, which only this command needs.
      const { startLocalSystem } = await import("../local-system.ts");
      say("courier: starting the local system (first run installs LocalStack, about a minute)");
      const readable = !options.jsonLogs;
      const colour = wantsColour(process.stdout);
      const system = await startLocalSystem({
        stackName: options.stack,
        apiPort: port,
        ...(options.bundles ? { bundles: true } : {}),
        log: (line) => say(`  ${line}`),
        workerLogs: readable ? "readable" : "json",
        onOutcome: (outcome) => say(formatOutcomeLine(outcome, { colour })),
      });
      say("");
      say(`API server    ${system.apiUrl}`);
      say(`  sign up     curl -s -XPOST ${system.apiUrl}/accounts -H 'content-type: application/json' \\`);
      say(`                -d '{"email":"ada@example.com","displayName":"Ada","phone":"+14155550123"}'`);
      say(
        `  upload      curl -s -XPOST ${system.apiUrl}/images -H 'content-type: image/jpeg' --data-binary @photo.jpg`,
      );
      say(`  renditions  curl -s ${system.apiUrl}/images/<imageId>`);
      say(
        `  export      curl -s -XPOST ${system.apiUrl}/accounts/<accountId>/export   (then GET the status it names)`,
      );
      say(`Console       ${system.consoleUrl}   (topology, live figures, dead-letter triage)`);
      say(`Mailbox       ${system.mailboxUrl}   (the verification link is in the mail body)`);
      say(`SMS           ${system.smsUrl}`);
      say(`Team webhook  ${system.webhook.url}   (each post is printed below)`);
      if (system.spans) {
        say(
          `Spans         ${system.spans.spansFile}   (npm run courier -- trace <eventId|correlationId> --local; console: Find a message)`,
        );
      }
      say(
        `Renditions    s3://${system.topology.outputs[UPLOADS_BUCKET_OUTPUT]}/renditions/<imageId>/{thumb,medium}.webp`,
      );
      say(
        `Operate       npm run courier -- status --local | dlq peek <consumer> --local | redrive <consumer> --local`,
      );
      say("Ctrl-C stops everything this started.\n");

      let last = "";
      // Each handled message has its line in readable mode; the counts serve the raw-log reader.
      const ticker = setInterval(() => {
        if (readable) return;
        system
          .consumerLines()
          .then((lines) => {
            const text = lines
              .map(
                (l) =>
                  `${l.consumer}: processed ${l.processed}, failed ${l.failed}, queue ${l.queueDepth}, dlq ${l.dlqDepth}`,
              )
              .join(" | ");
            if (text !== last) say(`[${new Date().toISOString().slice(11, 19)}] ${text}`);
            last = text;
          })
          .catch(() => {});
      }, intervalMs);

      await new Promise<void>((resolve) => {
        let firstSignalAt: number | undefined;
        const onSignal = () => {
          // A terminal's Ctrl-C reaches npm, tsx and this process, and tsx relays it too: only a
          // signal a second after the first means "exit now".
          if (firstSignalAt !== undefined) {
            if (Date.now() - firstSignalAt > 1000) process.exit(130);
            return;
          }
          firstSignalAt = Date.now();
          say("\ncourier: stopping; in-flight batches finish first (Ctrl-C again to exit now)");
          resolve();
        };
        process.on("SIGINT", onSignal);
        process.on("SIGTERM", onSignal);
      });
      clearInterval(ticker);
      await system.stop();
      say("courier: stopped");
    });
}
