/**
 * Acme's topology: one topic, two consumers. The CDK app renders it with courier's construct, the
 * handlers and the producer are typed from it.
 */
import { defineTopology } from "@courier-queue/courier";
import { OrderPlacedV1Contract } from "./contracts.ts";

/**
 * Where the handlers write down what they did (src/records.ts). Read when the app synthesizes: it
 * reaches the functions, and `courier work`, through the deployed stack.
 */
const recordsDir = process.env.ACME_RECORDS_DIR ?? "/tmp/acme-orders";

export const orders = defineTopology({
  topics: {
    orders: {
      description: "An order was placed in Acme's shop.",
      current: OrderPlacedV1Contract,
    },
  },
  consumers: {
    invoice: {
      description: "Issues the invoice of each order.",
      topic: "orders",
      handlerEntry: "src/handlers/invoice.ts",
      maxReceiveCount: 3,
      needs: { environment: { ACME_RECORDS_DIR: recordsDir } },
    },
    ledger: {
      description: "Books each real order in the ledger.",
      topic: "orders",
      handlerEntry: "src/handlers/ledger.ts",
      // Developers' sandbox orders are invoiced (to a test mailbox) but never booked.
      filterPolicy: { channel: ["web", "store"] },
      batchSize: 5,
      maxConcurrency: 2,
      needs: { environment: { ACME_RECORDS_DIR: recordsDir } },
    },
  },
});

export type OrdersTopology = typeof orders;
