import { DurationFormatError, parseDurationSeconds } from "../redrive/duration.ts";

export class ReplayTimeError extends Error {
  override readonly name = "ReplayTimeError";
}

/**
 * A point in time as the replay command takes it: an ISO 8601 time ("2026-11-06T12:00:00Z"), or a
 * duration ago ("30d", "2h", "1d12h").
 */
export function parseReplayTime(input: string, now: Date = new Date()): Date {
  const text = input.trim();
  if (/^\d{4}-\d{2}-\d{2}/.test(text)) {
    const at = new Date(text);
    if (Number.isNaN(at.getTime())) throw new ReplayTimeError(`"${input}" is not an ISO 8601 time`);
    return at;
  }
  try {
    return new Date(now.getTime() - parseDurationSeconds(text) * 1000);
  } catch (error) {
    if (error instanceof DurationFormatError) {
      throw new ReplayTimeError(`"${input}" is neither an ISO 8601 time nor a duration ago (30d, 2h, 1d12h)`);
    }
    throw error;
  }
}
