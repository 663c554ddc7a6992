/**
 * Readable worker output: a line per handled message instead of the runtime's JSON log lines and
 * EMF blobs, which suit CloudWatch but bury the one line a person looks for. The parent chooses
 * (`courier work` and `npm start` by default; `--json-logs` keeps the raw lines) through the
 * worker's environment; a worker run alone defaults to the raw lines, as on Lambda.
 */
import { onRecordOutcome, type RecordOutcome } from "../lib/consumer/outcomes.ts";
import { formatOutcomeLine, wantsColour } from "./outcome-line.ts";

/** `readable` or `json` (the default: Powertools JSON log lines and EMF metrics, as on Lambda). */
export const WORKER_LOGS_ENV = "COURIER_WORKER_LOGS";

export type WorkerLogs = "readable" | "json";

export function workerLogsFrom(env: NodeJS.ProcessEnv): WorkerLogs {
  return env[WORKER_LOGS_ENV] === "readable" ? "readable" : "json";
}

/**
 * In readable mode, before the handler module loads (its logger and metrics read the environment
 * at construction): EMF metrics off, and log lines below WARN left out, since the outcome line
 * says what an INFO line would. Settings the operator made explicitly are kept. Then each outcome
 * goes to `report` (the parent, over IPC) or, in a worker run alone, to stdout as a line.
 */
export function startReadableOutput(
  env: NodeJS.ProcessEnv,
  report: ((outcome: RecordOutcome) => void) | undefined,
): void {
  if (workerLogsFrom(env) !== "readable") return;
  env.POWERTOOLS_METRICS_DISABLED ??= "true";
  env.POWERTOOLS_LOG_LEVEL ??= "WARN";
  const colour = wantsColour(process.stdout);
  onRecordOutcome(
    report ?? ((outcome) => process.stdout.write(`${formatOutcomeLine(outcome, { colour })}\n`)),
  );
}
