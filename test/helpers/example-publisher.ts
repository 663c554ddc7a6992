/**
 * The package's `createPublisher` bound to the example's topology, with the publisher library's
 * exports beside it: what the tests that publish the example's messages build on.
 */
import {
  type CreatePublisherOptions,
  createPublisher as createTopologyPublisher,
  type Publisher as TopologyPublisher,
  type TopicData as TopologyTopicData,
} from "../../packages/courier/src/topology/publisher.ts";
import { type CourierTopology, courierTopology, type TopicName } from "../../src/topology.ts";

export * from "../../packages/courier/src/lib/publisher/index.ts";

export type CourierTopics = CourierTopology["topics"];
export type Publisher = TopologyPublisher<CourierTopology>;
export type TopicData<T extends TopicName> = TopologyTopicData<CourierTopology, T>;
export type CourierPublisherOptions = CreatePublisherOptions<CourierTopology>;

export function createPublisher(options: CourierPublisherOptions): Publisher {
  return createTopologyPublisher(courierTopology, options);
}
