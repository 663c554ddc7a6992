/**
 * courier's publisher: the library's topic publisher bound to the topology's topics, so producers
 * get typed `publish("account-signups", data)` without passing the topic map themselves.
 */
import {
  createTopicPublisher,
  type PublisherOptions,
  type TopicDataOf,
  type TopicPublisher,
} from "../lib/publisher/index.ts";
import { type TopicName, topics } from "./topology.ts";

export * from "../lib/publisher/index.ts";

export type CourierTopics = typeof topics;
export type Publisher = TopicPublisher<CourierTopics>;
export type TopicData<T extends TopicName> = TopicDataOf<CourierTopics, T>;
export type CourierPublisherOptions = Omit<PublisherOptions<CourierTopics>, "topics">;

export function createPublisher(options: CourierPublisherOptions): Publisher {
  return createTopicPublisher({ ...options, topics });
}
