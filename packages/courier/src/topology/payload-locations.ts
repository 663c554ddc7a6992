/**
 * The payload locations a consumer of an offloading topic may read, as the construct writes them
 * into the function's environment and the runtime reads them back: JSON `[{bucket, prefix}]`.
 */
import { ConsumerConfigError } from "../lib/consumer/errors.ts";
import type { PayloadLocation } from "../lib/payload-offloading/index.ts";

export const PAYLOAD_LOCATIONS_ENV = "COURIER_PAYLOAD_LOCATIONS";

export function payloadLocationsFromEnv(env: NodeJS.ProcessEnv): PayloadLocation[] {
  const raw = env[PAYLOAD_LOCATIONS_ENV];
  if (!raw) return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ConsumerConfigError(`${PAYLOAD_LOCATIONS_ENV} is not JSON`);
  }
  const valid =
    Array.isArray(parsed) &&
    parsed.every(
      (l) =>
        typeof l === "object" &&
        l !== null &&
        typeof (l as PayloadLocation).bucket === "string" &&
        (l as PayloadLocation).bucket.length > 0 &&
        typeof (l as PayloadLocation).prefix === "string",
    );
  if (!valid) throw new ConsumerConfigError(`${PAYLOAD_LOCATIONS_ENV} is not a list of {bucket, prefix}`);
  return parsed as PayloadLocation[];
}

export function payloadLocationsEnvValue(locations: readonly PayloadLocation[]): string {
  return JSON.stringify(locations.map(({ bucket, prefix }) => ({ bucket, prefix })));
}
