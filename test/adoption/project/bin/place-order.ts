/**
 * Publishes one order from the shop's code (not the courier CLI):
 *   ORDERS_TOPIC_ARN=arn:... node bin/place-order.ts '{"orderId":...}'
 * AWS is reached through the SDK's standard configuration (AWS_ENDPOINT_URL for LocalStack).
 * Prints the eventId and the SNS MessageId as JSON.
 */
import { SNSClient } from "@aws-sdk/client-sns";
import type { TopicData } from "@courier-queue/courier";
import { orderPublisher } from "../src/producer.ts";
import type { OrdersTopology } from "../src/topology.ts";

const topicArn = process.env.ORDERS_TOPIC_ARN;
const order = process.argv[2];
if (!topicArn || !order) {
  process.stderr.write("usage: ORDERS_TOPIC_ARN=arn:... node bin/place-order.ts '<order JSON>'\n");
  process.exit(2);
}
const publisher = orderPublisher(new SNSClient({}), topicArn);
// The publisher validates it against the contract; its static type cannot be known from argv.
const published = await publisher.publish("orders", JSON.parse(order) as TopicData<OrdersTopology, "orders">);
process.stdout.write(`${JSON.stringify(published)}\n`);
