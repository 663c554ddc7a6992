/**
 * `createPublisher(topology, options)`: the library's topic publisher bound to a topology's topics,
 * so producers get a typed `publish("orders", data)`; a topic the topology lacks is a type error.
 */
import type { TopicSpec } from "../lib/contracts/index.ts";
import {
  createTopicPublisher,
  type PublisherOptions,
  type TopicDataOf,
  type TopicPublisher,
} from "../lib/publisher/index.ts";
import { topicMaxMessageBytes } from "../lib/publisher/size.ts";
import type { AnyTopology, TopicNameOf } from "./topology.ts";

export type Publisher<T extends AnyTopology> = TopicPublisher<T["topics"]>;
/** What a producer passes for a topic: the input of its current contract. */
export type TopicData<T extends AnyTopology, N extends TopicNameOf<T>> = TopicDataOf<T["topics"], N>;

export interface CreatePublisherOptions<T extends AnyTopology>
  extends Omit<PublisherOptions<T["topics"]>, "topics"> {
  /**
   * The largest message the SNS in front of this publisher really takes, when it is less than a
   * topic's own `maxMessageBytes`: LocalStack 4.14 keeps a raised topic's MaximumMessageSize but
   * refuses any publish over 256 KiB. An offloading topic then sends by reference above this size
   * instead; any other topic refuses above it.
   * @default - each topic's own limit
   */
  readonly maxMessageBytesCeiling?: number;
}

export function createPublisher<T extends AnyTopology>(
  topology: T,
  options: CreatePublisherOptions<T>,
): Publisher<T> {
  const { maxMessageBytesCeiling: ceiling, ...rest } = options;
  const topics = ceiling === undefined ? topology.topics : capped(topology.topics, ceiling);
  return createTopicPublisher({ ...rest, topics } as PublisherOptions<T["topics"]>);
}

function capped<M extends Readonly<Record<string, TopicSpec>>>(topics: M, ceiling: number): M {
  return Object.fromEntries(
    Object.entries(topics).map(([name, spec]) => [
      name,
      { ...spec, maxMessageBytes: Math.min(topicMaxMessageBytes(spec), ceiling) },
    ]),
  ) as unknown as M;
}
