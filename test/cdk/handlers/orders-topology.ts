/**
 * A topology that is not courier's, for test/cdk/courier-construct.test.ts: a team's "orders" topic
 * read by an invoicing and a ledger consumer. Imports only the package's public entry point.
 */
import { defineContract, defineTopology } from "@courier-queue/courier";
import { z } from "zod";

export const OrderPlacedV1 = defineContract({
  type: "OrderPlaced",
  version: 1,
  data: z.object({
    orderId: z.string(),
    customerId: z.string(),
    totalCents: z.number().int(),
    region: z.string(),
  }),
  filterAttributes: (data) => ({ region: data.region }),
  filterAttributeNames: ["region"],
});

export const ordersTopology = defineTopology({
  topics: {
    orders: { current: OrderPlacedV1, maxMessageBytes: 1_048_576, offloadLargePayloads: true },
  },
  consumers: {
    invoice: {
      topic: "orders",
      handlerEntry: "test/cdk/handlers/invoice.ts",
      needs: {
        secrets: ["invoice-signing"],
        idempotencyTable: true,
        environment: { INVOICE_CURRENCY: "EUR" },
      },
    },
    ledger: {
      topic: "orders",
      handlerEntry: "test/cdk/handlers/ledger.ts",
      filterPolicy: { region: ["eu"] },
    },
  },
  secrets: {
    "invoice-signing": {
      description: "Signs invoice PDFs",
      length: 48,
      manualRotationReason:
        "Signatures on issued invoices are verified for years; rotated by hand with the old key kept.",
    },
  },
});
