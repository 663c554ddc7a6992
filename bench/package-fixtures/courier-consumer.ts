// A consumer written against the installed package, as a team writes one: the bundle courier's
// construct builds for it is what the package-footprint benchmark measures.
import { defineConsumer, defineContract, defineTopology, PermanentError } from "@courier-queue/courier";
import * as z from "zod";

const OrderPlacedV1 = defineContract({
  type: "OrderPlaced",
  version: 1,
  data: z.object({ orderId: z.string(), customerEmail: z.email(), totalCents: z.number().int() }),
});

export const topology = defineTopology({
  topics: { orders: { current: OrderPlacedV1 } },
  consumers: { invoice: { topic: "orders", handlerEntry: "handler.ts" } },
});

export const handler = defineConsumer(topology, {
  name: "invoice",
  handle: async (message, ctx) => {
    if (message.data.totalCents < 0) throw new PermanentError("negative total");
    ctx.logger.info("invoiced", { orderId: message.data.orderId });
  },
});
