/**
 * A consumer's generic needs (topology `needs`) with every field present: what the construct grants
 * and what `consumerEnvironment()` puts in the function's environment.
 */
import type { ConsumerSpec } from "../topology/topology.ts";

export interface ResolvedNeeds {
  readonly secrets: readonly string[];
  readonly idempotencyTable: boolean;
  readonly nodeModules: readonly string[];
  readonly environment: Readonly<Record<string, string>>;
}

export function needsOf(spec: Pick<ConsumerSpec<string>, "needs">): ResolvedNeeds {
  const needs = spec.needs ?? {};
  return {
    secrets: needs.secrets ?? [],
    idempotencyTable: needs.idempotencyTable ?? false,
    nodeModules: needs.nodeModules ?? [],
    environment: needs.environment ?? {},
  };
}

/** "verification" -> "VERIFICATION_SECRET_ARN": the variable a consumer receives a secret's ARN in. */
export function secretArnEnv(secret: string): string {
  const constant = secret
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[^A-Za-z0-9]+/g, "_")
    .toUpperCase();
  return `${constant}_SECRET_ARN`;
}
