export interface BackoffSpec {
  /** Delay before the second receive; doubles with each further receive (full jitter). */
  readonly baseSeconds: number;
  /** Cap on any one delay. */
  readonly maxSeconds: number;
}

/** SQS refuses a visibility timeout above 12 hours. */
export const MAX_VISIBILITY_TIMEOUT_SECONDS = 12 * 60 * 60;

/**
 * The upper bound of the delay before the next receive after `receiveCount` failed receives:
 * baseSeconds × 2^(receiveCount-1), capped at maxSeconds and at SQS's 12 h limit.
 */
export function backoffCeilingSeconds(receiveCount: number, spec: BackoffSpec): number {
  const attempt = Math.max(1, Math.floor(receiveCount));
  // 2^1023 is still finite, but capping the exponent keeps the arithmetic obviously safe.
  const exponential = spec.baseSeconds * 2 ** Math.min(attempt - 1, 62);
  return Math.max(0, Math.floor(Math.min(exponential, spec.maxSeconds, MAX_VISIBILITY_TIMEOUT_SECONDS)));
}

/**
 * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff And Jitter"):
 * a uniformly random whole number of seconds in [0, ceiling]. Full jitter spreads out the retries of
 * a batch that failed together (a downstream outage) instead of re-delivering them in lockstep.
 * `random` returns a number in [0, 1), like Math.random.
 */
export function backoffSeconds(receiveCount: number, spec: BackoffSpec, random: () => number): number {
  const ceiling = backoffCeilingSeconds(receiveCount, spec);
  const r = Math.min(Math.max(random(), 0), 1 - Number.EPSILON);
  return Math.floor(r * (ceiling + 1));
}
