/** What Acme's shop publishes when an order is placed: one zod schema per message kind and version. */
import { defineContract } from "@courier-queue/courier";
import { z } from "zod";

export const orderPlacedDataV1 = z.object({
  orderId: z.string().min(1).max(64),
  customerEmail: z.email().max(254),
  /** In cents; a negative total is a refund entered as an order by mistake, which invoicing refuses. */
  totalCents: z.number().int(),
  /** Where the order came from; sandbox orders are developers' tests and never reach the ledger. */
  channel: z.enum(["web", "store", "sandbox"]),
});
export type OrderPlacedV1 = z.infer<typeof orderPlacedDataV1>;

export const OrderPlacedV1Contract = defineContract({
  type: "OrderPlaced",
  version: 1,
  data: orderPlacedDataV1,
  // The ledger's subscription filters on it.
  filterAttributes: (data) => ({ channel: data.channel }),
  filterAttributeNames: ["channel"],
});
