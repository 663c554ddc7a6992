/**
 * courier's publisher: the library's topic publisher bound to the topology's topics, so producers
 * get typed `publish("account-signups", data)` without passing the topic map themselves.
 */
import type { TopicSpec } from "../lib/contracts/index.ts";
import {
  createTopicPublisher,
  type PublisherOptions,
  type TopicDataOf,
  type TopicPublisher,
} from "../lib/publisher/index.ts";
import { topicMaxMessageBytes } from "../lib/publisher/size.ts";
import { type TopicName, topics } from "../../../../src/topology.ts";

export * from "../lib/publisher/index.ts";

export type CourierTopics = typeof topics;
export type Publisher = TopicPublisher<CourierTopics>;
export type TopicData<T extends TopicName> = TopicDataOf<CourierTopics, T>;
export interface CourierPublisherOptions extends Omit<PublisherOptions<CourierTopics>, "topics"> {
  /**
   * The largest message the SNS in front of this publisher really takes, when it is less than a
   * topic's own `maxMessageBytes`: LocalStack 4.14 keeps a raised topic's MaximumMessageSize but
   * refuses any publish over 256 KiB (LOCALSTACK_MAX_PUBLISH_BYTES). An offloading topic then sends
   * by reference above this size instead; any other topic refuses above it.
   * @default - each topic's own limit
   */
  readonly maxMessageBytesCeiling?: number;
}

export function createPublisher(options: CourierPublisherOptions): Publisher {
  const { maxMessageBytesCeiling: ceiling, ...rest } = options;
  return createTopicPublisher({ ...rest, topics: ceiling === undefined ? topics : capped(ceiling) });
}

function capped(ceiling: number): CourierTopics {
  return Object.fromEntries(
    Object.entries(topics).map(([name, spec]: [string, TopicSpec]) => [
      name,
      { ...spec, maxMessageBytes: Math.min(topicMaxMessageBytes(spec), ceiling) },
    ]),
  ) as unknown as CourierTopics;
}
