/**
 * `defineConsumer({ name, handle })`: the library's consumer handler bound to the topology entry of
 * that name (accepted contracts, maxReceiveCount, backoff, timeout), so a handler module states
 * only its name and its logic, and the message type follows from the consumer's topic.
 */
import {
  type ConsumerContext as AnyConsumerContext,
  type ConsumerHandler,
  type ConsumerHandlerSettings,
  createConsumerHandler,
  type EnvelopeOf,
} from "../lib/consumer/index.ts";
import { type ConsumerName, consumerSpec, type consumers, topics } from "./topology.ts";

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
  return createConsumerHandler<AcceptedContract<N>, N>({
    ...settings,
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
