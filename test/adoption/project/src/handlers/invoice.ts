/** invoice: issues an order's invoice; an order with a negative total cannot be invoiced until refunds are accepted. */
import { defineConsumer, PermanentError } from "@courier-queue/courier";
import { orderRecordsFromEnv } from "../records.ts";
import { orders } from "../topology.ts";

const records = orderRecordsFromEnv(process.env);

export const handler = defineConsumer(orders, {
  name: "invoice",
  handle: async (message, ctx) => {
    const { orderId, totalCents } = message.data;
    if (totalCents < 0 && !records.refundsAccepted()) {
      // Retrying cannot fix it: straight to the DLQ, with this reason, until someone ships the fix.
      throw new PermanentError(`order ${orderId} has a negative total (${totalCents} cents)`);
    }
    await records.append({
      consumer: ctx.consumer,
      eventId: ctx.eventId,
      orderId,
      totalCents,
      receiveCount: ctx.receiveCount,
    });
    ctx.logger.info("invoice issued", { orderId });
  },
});
