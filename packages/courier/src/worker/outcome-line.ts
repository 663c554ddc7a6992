/**
 * One line per handled message, for a person watching `courier work` or `npm start`:
 *
 *   10:42:07  team-notify         processed                3f2a9c1e    41 ms
 *   10:42:09  thumbnails          dead-lettered            7b1c0d2e   118 ms  ImageRejectedError: corrupt: ...
 *
 * Time (UTC, as the runtime's log lines), consumer, outcome, the eventId's first 8 characters,
 * the handler's duration, and for a failure its reason. Retries show in yellow and dead letters
 * in red when the output is a colour terminal; piped output gets no escape codes.
 *
 * Colour comes from Node's own `util.styleText` (no dependency); a log pretty-printer such as
 * pino-pretty formats log records, whereas these lines come from the runtime's structured outcomes.
 */
import { styleText } from "node:util";
import type { RecordOutcome } from "../lib/consumer/outcomes.ts";

type Style = Parameters<typeof styleText>[0];

export interface LineStyle {
  /** Colour with ANSI escapes (a colour terminal); false for plain text. */
  readonly colour: boolean;
}

/** Whether lines written to `stream` should be coloured: a TTY that has colours (honours NO_COLOR, FORCE_COLOR). */
export function wantsColour(stream: NodeJS.WritableStream): boolean {
  const tty = stream as NodeJS.WritableStream & { isTTY?: boolean; hasColors?: () => boolean };
  return tty.isTTY === true && typeof tty.hasColors === "function" && tty.hasColors();
}

const CONSUMER_WIDTH = 19;
const OUTCOME_WIDTH = 24;
const REASON_MAX_CHARS = 300;

export function outcomeText(outcome: RecordOutcome): string {
  switch (outcome.outcome) {
    case "processed":
      return outcome.receiveCount > 1 ? `processed (receive ${outcome.receiveCount})` : "processed";
    case "retried":
      return outcome.retryDelaySet ? `retried in ${outcome.retryInSeconds} s` : "retried (queue's timeout)";
    case "dead-lettered":
      return outcome.kind === "exhausted" ? `dead-lettered (${outcome.receiveCount} tries)` : "dead-lettered";
    case "dead-letter-failed":
      return "DLQ send failed, back later";
  }
}

function outcomeStyle(outcome: RecordOutcome): Style {
  switch (outcome.outcome) {
    case "processed":
      return "green";
    case "retried":
      return "yellow";
    case "dead-lettered":
    case "dead-letter-failed":
      return ["red", "bold"];
  }
}

/** Control characters (a reason may quote input) would break the line or move the cursor. */
function oneLine(text: string): string {
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it removes
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f]+/g, " ").trim();
  return flat.length > REASON_MAX_CHARS ? `${flat.slice(0, REASON_MAX_CHARS - 1)}…` : flat;
}

export function formatOutcomeLine(outcome: RecordOutcome, style: LineStyle): string {
  const paint = (format: Style, text: string) =>
    style.colour ? styleText(format, text, { validateStream: false }) : text;
  const time = new Date(outcome.at).toISOString().slice(11, 19);
  const id = outcome.eventId ? outcome.eventId.slice(0, 8) : "no-event";
  const duration = `${Math.round(outcome.durationMs)} ms`.padStart(8);
  const parts = [
    paint("dim", time),
    outcome.consumer.padEnd(CONSUMER_WIDTH),
    paint(outcomeStyle(outcome), outcomeText(outcome).padEnd(OUTCOME_WIDTH)),
    id.padEnd(8),
    duration,
  ];
  if (outcome.outcome !== "processed") {
    const reason = oneLine(`${outcome.errorClass}: ${outcome.errorMessage}`);
    parts.push(paint(outcome.outcome === "retried" ? "yellow" : "red", reason));
  }
  return parts.join("  ");
}
