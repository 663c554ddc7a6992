/**
 * The package's `defineConsumer` bound to the example's topology, with the consumer runtime's
 * exports beside it: what the tests of the runtime and of the example's handlers build on.
 */
import type { ConsumerHandler } from "../../packages/courier/src/lib/consumer/index.ts";
import {
  defineConsumer as defineTopologyConsumer,
  type ConsumerMessage as TopologyConsumerMessage,
  type ConsumerOptions as TopologyConsumerOptions,
} from "../../packages/courier/src/topology/define-consumer.ts";
import { type ConsumerName, type CourierTopology, courierTopology } from "../../src/topology.ts";

export * from "../../packages/courier/src/lib/consumer/index.ts";

export type ConsumerMessage<N extends ConsumerName> = TopologyConsumerMessage<CourierTopology, N>;
export type ConsumerOptions<N extends ConsumerName> = TopologyConsumerOptions<CourierTopology, N>;

export function defineConsumer<N extends ConsumerName>(options: ConsumerOptions<N>): ConsumerHandler {
  return defineTopologyConsumer(courierTopology, options);
}
