/**
 * Compile-time checks that the topology types the API: tsc fails on an unused `@ts-expect-error`,
 * so each line below must really be an error. Never called.
 */
import { defineConsumer, type Publisher } from "@courier-queue/courier";
import type { OrdersTopology } from "./topology.ts";
import { orders } from "./topology.ts";

export async function typeChecks(publisher: Publisher<OrdersTopology>): Promise<void> {
  await publisher.publish("orders", {
    orderId: "A-1",
    customerEmail: "a@example.com",
    totalCents: 1,
    channel: "store",
  });
  // @ts-expect-error: "refunds" is not a topic of Acme's topology
  await publisher.publish("refunds", { orderId: "A-1" });
  await publisher.publish("orders", {
    orderId: "A-1",
    customerEmail: "a@example.com",
    // @ts-expect-error: totalCents is a number
    totalCents: "1",
    channel: "web",
  });
  defineConsumer(orders, {
    // @ts-expect-error: "shipping" is not a consumer of Acme's topology
    name: "shipping",
    handle: () => undefined,
  });
  defineConsumer(orders, {
    name: "ledger",
    handle: (message) => {
      const cents: number = message.data.totalCents;
      const channel: "web" | "store" | "sandbox" = message.data.channel;
      // @ts-expect-error: OrderPlaced has no such field
      void message.data.shippingAddress;
      return [cents, channel];
    },
  });
}
