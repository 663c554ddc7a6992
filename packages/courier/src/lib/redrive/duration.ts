/** Parses the CLI's human durations ("90s", "30m", "2h", "1d", "1h30m", or plain seconds) to seconds. */

export class DurationFormatError extends Error {
  override readonly name = "DurationFormatError";
  constructor(readonly input: string) {
    super(`"${input}" is not a duration; use e.g. 90s, 30m, 2h, 1d or 1h30m`);
  }
}

const UNIT_SECONDS = { d: 86_400, h: 3_600, m: 60, s: 1 } as const;
const DURATION = /^(?:(\d+)d)?(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/;

export function parseDurationSeconds(input: string): number {
  const text = input.trim().toLowerCase();
  if (/^\d+$/.test(text)) return Number(text);
  const match = DURATION.exec(text);
  if (!text || !match) throw new DurationFormatError(input);
  const [, d, h, m, s] = match;
  return (
    Number(d ?? 0) * UNIT_SECONDS.d +
    Number(h ?? 0) * UNIT_SECONDS.h +
    Number(m ?? 0) * UNIT_SECONDS.m +
    Number(s ?? 0)
  );
}
