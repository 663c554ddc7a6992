/** The shop's side: a publisher typed from the topology (a wrong topic or a malformed order does not compile). */
import type { SNSClient } from "@aws-sdk/client-sns";
import { createPublisher, type Publisher } from "@courier-queue/courier";
import { type OrdersTopology, orders } from "./topology.ts";

export function orderPublisher(sns: SNSClient, ordersTopicArn: string): Publisher<OrdersTopology> {
  return createPublisher(orders, { sns, topicArns: { orders: ordersTopicArn }, producer: "acme-shop" });
}
