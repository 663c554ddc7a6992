/** ledger: books each real order (its subscription filters out sandbox orders). */
import { defineConsumer } from "@courier-queue/courier";
import { orderRecordsFromEnv } from "../records.ts";
import { orders } from "../topology.ts";

const records = orderRecordsFromEnv(process.env);

export const handler = defineConsumer(orders, {
  name: "ledger",
  handle: async (message, ctx) => {
    await records.append({
      consumer: ctx.consumer,
      eventId: ctx.eventId,
      orderId: message.data.orderId,
      totalCents: message.data.totalCents,
      receiveCount: ctx.receiveCount,
    });
  },
});
