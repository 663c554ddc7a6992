/**
 * The line a person sees per handled message. Failure modes: an outcome that reads wrong or
 * misses its reason, escape codes in piped output, no colour on a terminal, a reason that breaks
 * the line.
 */
import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import type { RecordOutcome } from "../../packages/courier/src/lib/consumer/outcomes.ts";
import { formatOutcomeLine, wantsColour } from "../../packages/courier/src/worker/outcome-line.ts";

const base = {
  consumer: "thumbnails",
  eventId: "7b1c0d2e-5a6f-4c3b-9d8e-0123456789ab",
  messageId: "m-1",
  receiveCount: 1,
  at: Date.parse("2026-11-28T10:42:07.123Z"),
  durationMs: 118.4,
} as const;

const processed: RecordOutcome = { ...base, outcome: "processed" };
const retried: RecordOutcome = {
  ...base,
  receiveCount: 2,
  outcome: "retried",
  retryInSeconds: 4,
  retryDelaySet: true,
  errorClass: "WebhookUnavailableError",
  errorMessage: "webhook answered 503",
};
const deadLettered: RecordOutcome = {
  ...base,
  outcome: "dead-lettered",
  kind: "permanent",
  errorClass: "ImageRejectedError",
  errorMessage: "corrupt: VipsJpeg: premature end of input file",
};
const exhausted: RecordOutcome = {
  ...(deadLettered as object),
  kind: "exhausted",
  receiveCount: 5,
} as RecordOutcome;
const deadLetterFailed: RecordOutcome = {
  ...base,
  outcome: "dead-letter-failed",
  errorClass: "PermanentError",
  errorMessage: "bad input",
};

// biome-ignore lint/suspicious/noControlCharactersInRegex: matching ANSI escapes is the point
const ANSI = /\u001b\[/;
const plain = { colour: false };
const tty = { colour: true };

describe("the outcome line, piped (no colour)", () => {
  it("GIVEN a processed record WHEN formatted THEN time, consumer, outcome, short eventId and duration, no reason", () => {
    expect(formatOutcomeLine(processed, plain)).toBe(
      "10:42:07  thumbnails           processed                 7b1c0d2e    118 ms",
    );
  });

  it("GIVEN a retried record WHEN formatted THEN it says when it comes back and why", () => {
    expect(formatOutcomeLine(retried, plain)).toBe(
      "10:42:07  thumbnails           retried in 4 s            7b1c0d2e    118 ms  WebhookUnavailableError: webhook answered 503",
    );
  });

  it("GIVEN a retried record whose delay could not be set WHEN formatted THEN it says the queue's timeout applies", () => {
    const line = formatOutcomeLine({ ...(retried as object), retryDelaySet: false } as RecordOutcome, plain);
    expect(line).toContain("retried (queue's timeout)");
  });

  it("GIVEN a dead-lettered record WHEN formatted THEN it says dead-lettered with the reason", () => {
    expect(formatOutcomeLine(deadLettered, plain)).toBe(
      "10:42:07  thumbnails           dead-lettered             7b1c0d2e    118 ms  ImageRejectedError: corrupt: VipsJpeg: premature end of input file",
    );
  });

  it("GIVEN a record dead-lettered on its last receive WHEN formatted THEN it says how many tries", () => {
    expect(formatOutcomeLine(exhausted, plain)).toContain("dead-lettered (5 tries)");
  });

  it("GIVEN a failed DLQ send WHEN formatted THEN it says the record comes back, with the reason", () => {
    expect(formatOutcomeLine(deadLetterFailed, plain)).toContain(
      "DLQ send failed, back later  7b1c0d2e    118 ms  PermanentError: bad input",
    );
  });

  it("GIVEN each outcome WHEN formatted for a pipe THEN no escape codes", () => {
    for (const outcome of [processed, retried, deadLettered, exhausted, deadLetterFailed]) {
      expect(formatOutcomeLine(outcome, plain)).not.toMatch(ANSI);
    }
  });

  it("GIVEN a reason with newlines and escape characters WHEN formatted THEN the line stays one line with none of them (failure mode: input moving the cursor)", () => {
    const hostile = {
      ...(deadLettered as object),
      errorMessage: "line one\nline two\u001b[2J\r",
    } as RecordOutcome;
    const line = formatOutcomeLine(hostile, plain);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: these are what must not appear
    expect(line).not.toMatch(/[\n\r\u001b]/);
    expect(line).toContain("line one line two [2J");
  });

  it("GIVEN an undecodable record WHEN formatted THEN it says there is no eventId", () => {
    const { eventId: _none, ...rest } = deadLettered as RecordOutcome & { eventId?: string };
    expect(formatOutcomeLine(rest as RecordOutcome, plain)).toContain("  no-event  ");
  });
});

describe("the outcome line on a colour terminal", () => {
  const yellow = "\u001b[33m";
  const red = "\u001b[31m";
  const green = "\u001b[32m";

  it("GIVEN a processed record WHEN formatted THEN the outcome is green and the text is unchanged", () => {
    const line = formatOutcomeLine(processed, tty);
    expect(line).toContain(`${green}processed`);
    // biome-ignore lint/suspicious/noControlCharactersInRegex: stripping ANSI escapes
    expect(line.replace(/\u001b\[[0-9;]*m/g, "")).toBe(formatOutcomeLine(processed, plain));
  });

  it("GIVEN a retried record WHEN formatted THEN the outcome and reason stand out in yellow", () => {
    const line = formatOutcomeLine(retried, tty);
    expect(line).toContain(`${yellow}retried in 4 s`);
    expect(line).toContain(`${yellow}WebhookUnavailableError`);
  });

  it("GIVEN a dead-lettered record or a failed DLQ send WHEN formatted THEN they stand out in red", () => {
    for (const outcome of [deadLettered, exhausted, deadLetterFailed]) {
      expect(formatOutcomeLine(outcome, tty)).toContain(red);
    }
    expect(formatOutcomeLine(deadLettered, tty)).toContain(`${red}ImageRejectedError: corrupt`);
  });
});

describe("wantsColour", () => {
  it("GIVEN a pipe WHEN asked THEN no colour", () => {
    expect(wantsColour(new PassThrough())).toBe(false);
  });

  it("GIVEN a terminal with colours WHEN asked THEN colour; without colours (NO_COLOR) THEN none", () => {
    const terminal = Object.assign(new PassThrough(), { isTTY: true, hasColors: () => true });
    const noColour = Object.assign(new PassThrough(), { isTTY: true, hasColors: () => false });
    expect(wantsColour(terminal)).toBe(true);
    expect(wantsColour(noColour)).toBe(false);
  });
});
