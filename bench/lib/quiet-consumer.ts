/**
 * The parts a benchmark gives a consumer so that only the consumer's own work is measured: a
 * Powertools Logger that formats every line as on Lambda and writes it nowhere, and metrics that
 * record nothing.
 */
import { Console } from "node:console";
import { Writable } from "node:stream";
import { Logger } from "@aws-lambda-powertools/logger";
import type { ConsumerMetrics } from "../../test/helpers/example-consumer.ts";

/** A Logger at INFO whose lines are formatted, then dropped. */
export function loggerToNowhere(serviceName = "verification-email"): Logger {
  const discard = new Writable({ write: (_chunk, _encoding, done) => done() });
  const logger = new Logger({ serviceName, logLevel: "INFO" });
  (logger as unknown as { console: Console }).console = new Console({ stdout: discard, stderr: discard });
  return logger;
}

/** Metrics that record nothing. */
export const noMetrics: ConsumerMetrics = {
  addMetric: () => noMetrics,
  addMetadata: () => undefined,
  publishStoredMetrics: () => undefined,
};
