/**
 * The environment the construct gives each consumer function, from its topology entry's generic
 * needs. The CDK construct passes CloudFormation tokens; the deployed stack's manifest carries the
 * result (as synthesized, with whatever the team added), which local workers run with.
 */
import type { PayloadLocation } from "../lib/payload-offloading/payload-resolver.ts";
import { RUNTIME_ENV } from "../lib/runtime-env.ts";
import { PAYLOAD_LOCATIONS_ENV, payloadLocationsEnvValue } from "../topology/payload-locations.ts";
import type { ConsumerSpec } from "../topology/topology.ts";
import { needsOf, secretArnEnv } from "./consumer-needs.ts";

/** The variables the construct sets; a team's own come from `needs.environment` or `addEnvironment`. */
export const ENV = {
  ...RUNTIME_ENV,
  payloadLocations: PAYLOAD_LOCATIONS_ENV,
  serviceName: "POWERTOOLS_SERVICE_NAME",
  metricsNamespace: "POWERTOOLS_METRICS_NAMESPACE",
} as const;

/** The namespace of the consumer runtime's metrics unless the construct is given another. */
export const DEFAULT_METRICS_NAMESPACE = "courier";

/** Addresses of what the consumer uses; it receives those its needs name. */
export interface ConsumerResources {
  readonly queueUrl: string;
  readonly dlqUrl: string;
  /** Each secret of the topology by name: its ARN. */
  readonly secretArns: Readonly<Record<string, string>>;
  /** Absent where no table is deployed: the variable is then left out. */
  readonly idempotencyTable?: string;
  /** Where the consumer may read offloaded payloads; only for a topic whose payloads it reads. */
  readonly payloadLocations?: readonly PayloadLocation[];
  /** @default DEFAULT_METRICS_NAMESPACE */
  readonly metricsNamespace?: string;
}

export class MissingConsumerResourceError extends Error {
  override readonly name = "MissingConsumerResourceError";
}

export function consumerEnvironment(
  spec: Pick<ConsumerSpec<string>, "name" | "needs">,
  resources: ConsumerResources,
): Record<string, string> {
  const needs = needsOf(spec);
  const env: Record<string, string> = {
    ...needs.environment,
    [ENV.consumer]: spec.name,
    [ENV.queueUrl]: resources.queueUrl,
    [ENV.dlqUrl]: resources.dlqUrl,
    [ENV.serviceName]: spec.name,
    [ENV.metricsNamespace]: resources.metricsNamespace ?? DEFAULT_METRICS_NAMESPACE,
  };
  if (needs.idempotencyTable && resources.idempotencyTable) {
    env[ENV.idempotencyTable] = resources.idempotencyTable;
  }
  for (const secret of needs.secrets) {
    const arn = resources.secretArns[secret];
    if (!arn) {
      throw new MissingConsumerResourceError(
        `${spec.name} needs secret "${secret}", whose ARN was not given`,
      );
    }
    env[secretArnEnv(secret)] = arn;
  }
  if (resources.payloadLocations && resources.payloadLocations.length > 0) {
    env[ENV.payloadLocations] = payloadLocationsEnvValue(resources.payloadLocations);
  }
  return env;
}
