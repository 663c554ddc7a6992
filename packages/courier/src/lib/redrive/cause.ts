/**
 * A dead-lettered message's cause: its error class plus its error message with the parts that
 * differ from message to message (ids, numbers, addresses) masked, so that a thousand failures of
 * one bug read as one cause. The console groups by it and the selective mover filters by it.
 */
import { FAILURE_MESSAGE_MAX_CHARS } from "../consumer/failure-attributes.ts";
import type { DlqMessage } from "./dlq-message.ts";

const MASKS: ReadonlyArray<readonly [RegExp, string]> = [
  // The lookbehind keeps it linear: a local part starts only where a run of its characters starts.
  [/(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+/g, "<email>"],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, "<id>"],
  // Opaque ids: a run of letters, digits, - or _ holding both a letter and a digit (acct-12, hex, keys).
  [/\b(?=[\w-]*\d)(?=[\w-]*[A-Za-z])[\w-]+\b/g, "<id>"],
  [/\+?\d+(?:[.,:]\d+)*/g, "<n>"],
];

/** Masks what varies per message in an error text; the rest (the words) names the cause. */
export function maskVariableParts(text: string): string {
  return MASKS.reduce((masked, [pattern, replacement]) => masked.replace(pattern, replacement), text)
    .replace(/\s+/g, " ")
    .trim();
}

/** "ErrorClass: masked message", or the error class alone when there is no message. */
export function causeOf(message: Pick<DlqMessage, "errorClass" | "failure">): string {
  // The runtime writes at most this much; a longer one (a forged attribute) is cut, so masking stays cheap.
  const failureMessage = message.failure?.message.slice(0, FAILURE_MESSAGE_MAX_CHARS);
  const text = failureMessage ? maskVariableParts(failureMessage) : "";
  return text ? `${message.errorClass}: ${text}` : message.errorClass;
}
