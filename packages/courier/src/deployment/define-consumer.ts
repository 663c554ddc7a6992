/**
 * `defineConsumer({ name, handle })`: the library's consumer handler bound to the topology entry of
 * that name (accepted contracts, maxReceiveCount, backoff, timeout), so a handler module states
 * only its name and its logic, and the message type follows from the consumer's topic.
 */
import { S3Client } from "@aws-sdk/client-s3";
import {
  type ConsumerContext as AnyConsumerContext,
  ConsumerConfigError,
  type ConsumerHandler,
  type ConsumerHandlerSettings,
  createConsumerHandler,
  type EnvelopeOf,
} from "../lib/consumer/index.ts";
import {
  createPayloadResolver,
  DEFAULT_PAYLOAD_MAX_BYTES,
  PAYLOAD_BUCKET_ENV,
  type PayloadResolver,
  payloadPrefix,
} from "../lib/payload-offloading/index.ts";
import { sqsClient } from "../lib/sqs-client.ts";
import { type ConsumerName, consumerSpec, type consumers, type TopicSpec, topics } from "../../../../src/topology.ts";
import { consumerTracer, tracedClient } from "../topology/tracing.ts";

export * from "../lib/consumer/index.ts";

/** The contracts a consumer accepts: every version its topic accepts. */
export type AcceptedContract<N extends ConsumerName> =
  (typeof topics)[(typeof consumers)[N]["topic"]]["accepts"][number];

/** What `handle` receives: the union of the accepted contracts' envelopes (narrow on type/version). */
export type ConsumerMessage<N extends ConsumerName> = EnvelopeOf<AcceptedContract<N>>;

export type ConsumerContext<N extends ConsumerName = ConsumerName> = AnyConsumerContext<N>;

export interface ConsumerOptions<N extends ConsumerName> extends ConsumerHandlerSettings {
  readonly name: N;
  /** Throw to fail the record: a `PermanentError` dead-letters it at once, anything else retries it. */
  readonly handle: (message: ConsumerMessage<N>, ctx: ConsumerContext<N>) => unknown;
}

export function defineConsumer<N extends ConsumerName>(options: ConsumerOptions<N>): ConsumerHandler {
  const { name, handle, ...settings } = options;
  const spec = consumerSpec(name);
  const topic: TopicSpec = topics[spec.topic];
  const payloads =
    settings.payloads ??
    (topic.offloadLargePayloads ? topicPayloadResolver(spec.topic, settings.env ?? process.env) : undefined);
  return createConsumerHandler<AcceptedContract<N>, N>({
    ...settings,
    ...(payloads ? { payloads } : {}),
    tracer: settings.tracer ?? consumerTracer(name),
    // The runtime's own calls (retry delays, DLQ sends) show in the trace beside the handler's.
    sqs: settings.sqs ?? tracedClient(name, sqsClient()),
    spec: {
      name,
      accepts: topics[spec.topic].accepts as readonly AcceptedContract<N>[],
      maxReceiveCount: spec.maxReceiveCount,
      backoff: spec.backoff,
      timeoutSeconds: spec.timeoutSeconds,
      ...(spec.onPermanentFailure ? { onPermanentFailure: spec.onPermanentFailure } : {}),
    },
    handle,
  });
}

/**
 * Reads payloads only from the payload bucket the stack names (its variable) and only under the
 * topic's prefix, which is all the consumer's role may read. The bucket is looked up at first use,
 * so a handler module loads before its environment is complete (tests, `courier work`).
 */
function topicPayloadResolver(topic: string, env: NodeJS.ProcessEnv): PayloadResolver {
  let resolver: PayloadResolver | undefined;
  return (pointerBody, declaredBytes) => {
    if (!resolver) {
      const bucket = env[PAYLOAD_BUCKET_ENV];
      if (!bucket) {
        return Promise.reject(
          new ConsumerConfigError(
            `${PAYLOAD_BUCKET_ENV} is not set; this consumer's topic offloads large payloads`,
          ),
        );
      }
      resolver = createPayloadResolver({
        s3: new S3Client({}),
        locations: [{ bucket, prefix: payloadPrefix(topic) }],
        maxBytes: DEFAULT_PAYLOAD_MAX_BYTES,
      });
    }
    return resolver(pointerBody, declaredBytes);
  };
}
