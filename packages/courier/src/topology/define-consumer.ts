/**
 * `defineConsumer(topology, { name, handle })`: the library's consumer handler bound to the
 * topology entry of that name (accepted contracts, maxReceiveCount, backoff, timeout), so a handler
 * module states only its name and its logic. The message type follows from the consumer's topic;
 * a name the topology does not declare is a type error.
 */

import { loadS3Module } from "../lib/aws-sdk-on-demand.ts";
import {
  ConsumerConfigError,
  type ConsumerContext,
  type ConsumerHandler,
  type ConsumerHandlerSettings,
  createConsumerHandler,
  type EnvelopeOf,
} from "../lib/consumer/index.ts";
import {
  createPayloadResolver,
  DEFAULT_PAYLOAD_MAX_BYTES,
  type PayloadLocation,
  type PayloadResolver,
} from "../lib/payload-offloading/index.ts";
import { sqsOnDemand } from "../lib/sqs-on-demand.ts";
import { PAYLOAD_LOCATIONS_ENV, payloadLocationsFromEnv } from "./payload-locations.ts";
import {
  type AcceptedContractOf,
  type AnyTopology,
  type ConsumerNameOf,
  consumerSpecOf,
} from "./topology.ts";
import { tracedClient } from "./tracing.ts";

/** What `handle` receives: the union of the accepted contracts' envelopes (narrow on type/version). */
export type ConsumerMessage<T extends AnyTopology, N extends ConsumerNameOf<T>> = EnvelopeOf<
  AcceptedContractOf<T, N>
>;

export interface ConsumerOptions<T extends AnyTopology, N extends ConsumerNameOf<T>>
  extends ConsumerHandlerSettings {
  readonly name: N;
  /** Throw to fail the record: a `PermanentError` dead-letters it at once, anything else retries it. */
  readonly handle: (message: ConsumerMessage<T, N>, ctx: ConsumerContext<N>) => unknown;
}

/**
 * Where a handler made by `defineConsumer` keeps its definition: the test kit
 * (`@courier-queue/courier/testing`) rebuilds the consumer on its in-memory queue and clock from
 * it, so a team tests the very handler its module exports. A registered symbol, so two copies of the
 * package in one project still find each other's.
 */
export const CONSUMER_DEFINITION = Symbol.for("@courier-queue/courier.consumer-definition");

export interface ConsumerDefinition {
  readonly topology: AnyTopology;
  readonly options: ConsumerOptions<AnyTopology, string>;
}

/** The definition behind a handler from `defineConsumer`, or undefined for any other function. */
export function consumerDefinitionOf(handler: unknown): ConsumerDefinition | undefined {
  if (typeof handler !== "function") return undefined;
  return (handler as { [CONSUMER_DEFINITION]?: ConsumerDefinition })[CONSUMER_DEFINITION];
}

export function defineConsumer<T extends AnyTopology, N extends ConsumerNameOf<T>>(
  topology: T,
  options: ConsumerOptions<T, N>,
): ConsumerHandler {
  const handler = buildConsumer(topology, options);
  const definition: ConsumerDefinition = {
    topology,
    options: options as unknown as ConsumerOptions<AnyTopology, string>,
  };
  Object.defineProperty(handler, CONSUMER_DEFINITION, { value: definition });
  return handler;
}

function buildConsumer<T extends AnyTopology, N extends ConsumerNameOf<T>>(
  topology: T,
  options: ConsumerOptions<T, N>,
): ConsumerHandler {
  const { name, handle, ...settings } = options;
  const spec = consumerSpecOf(topology, name);
  const topic = topology.topics[spec.topic];
  if (!topic) throw new Error(`consumer "${name}" reads topic "${spec.topic}", which the topology lacks`);
  const payloads =
    settings.payloads ??
    (topic.offloadLargePayloads ? payloadResolverFromEnv(settings.env ?? process.env) : undefined);
  return createConsumerHandler<AcceptedContractOf<T, N>, N>({
    ...settings,
    ...(payloads ? { payloads } : {}),
    // The runtime's own calls (retry delays, DLQ sends) show in the trace beside the handler's.
    // Made at the first failure: a consumer whose records succeed never makes an SQS client.
    sqs: settings.sqs ?? (async () => tracedClient(name, await sqsOnDemand()())),
    spec: {
      name,
      accepts: topic.accepts as readonly AcceptedContractOf<T, N>[],
      maxReceiveCount: spec.maxReceiveCount,
      backoff: spec.backoff,
      timeoutSeconds: spec.timeoutSeconds,
      ...(spec.onPermanentFailure ? { onPermanentFailure: spec.onPermanentFailure } : {}),
      // A standard topic with a tenant: per-tenant controls and dwell time.
      ...(topic.tenant && !topic.ordering ? { tenants: true, tenantFrom: topic.tenant.from } : {}),
    },
    handle,
  });
}

/**
 * Reads payloads only from the locations the stack gave the function (its variable), which is all
 * its role may read. Looked up at first use, so a handler module loads before its environment is
 * complete (tests, `courier work`).
 */
function payloadResolverFromEnv(env: NodeJS.ProcessEnv): PayloadResolver {
  let resolver: Promise<PayloadResolver> | undefined;
  return (pointerBody, declaredBytes) => {
    if (!resolver) {
      let locations: readonly PayloadLocation[];
      try {
        locations = payloadLocationsFromEnv(env);
      } catch (error) {
        return Promise.reject(error);
      }
      if (locations.length === 0) {
        return Promise.reject(
          new ConsumerConfigError(
            `${PAYLOAD_LOCATIONS_ENV} is not set; this consumer's topic offloads large payloads`,
          ),
        );
      }
      // The S3 client loads with the first pointer, not with the handler module (cold start).
      resolver = loadS3Module().then(({ S3Client }) =>
        createPayloadResolver({ s3: new S3Client({}), locations, maxBytes: DEFAULT_PAYLOAD_MAX_BYTES }),
      );
    }
    return resolver.then((resolve) => resolve(pointerBody, declaredBytes));
  };
}
