/**
 * A team's topology as input: `defineTopology` resolves defaults and refuses what AWS would refuse,
 * and the publisher and `defineConsumer` are typed from it (no codegen, no casts). Failure modes
 * covered: a default silently different on a FIFO topic; a bad declaration reaching synth or a
 * worker; a wrong topic or consumer name compiling (the @ts-expect-error lines fail `npm run build`
 * the day such a name type-checks).
 */
import { SNSClient } from "@aws-sdk/client-sns";
import {
  CONSUMER_DEFAULTS,
  createPublisher,
  defineConsumer,
  defineContract,
  defineTopology,
  FIFO_CONSUMER_DEFAULTS,
  InvalidTopologyError,
} from "@courier-queue/courier";
import { describe, expect, expectTypeOf, it } from "vitest";
import { z } from "zod";

const OrderPlacedV1 = defineContract({
  type: "OrderPlaced",
  version: 1,
  data: z.object({ orderId: z.string(), totalCents: z.number().int(), priority: z.enum(["high", "low"]) }),
  filterAttributes: (data) => ({ priority: data.priority }),
  filterAttributeNames: ["priority"],
});
const OrderPlacedV2 = defineContract({
  type: "OrderPlaced",
  version: 2,
  data: z.object({ orderId: z.string(), total: z.object({ cents: z.number().int(), currency: z.string() }) }),
});
const RefundIssuedV1 = defineContract({
  type: "RefundIssued",
  version: 1,
  data: z.object({ orderId: z.string(), refundId: z.string(), accountId: z.string() }),
});

const topology = defineTopology({
  topics: {
    orders: { current: OrderPlacedV2, accepts: [OrderPlacedV1, OrderPlacedV2] },
    refunds: { current: RefundIssuedV1, ordering: { groupBy: "accountId" } },
  },
  consumers: {
    invoice: { topic: "orders", handlerEntry: "src/handlers/invoice.ts", timeoutSeconds: 20 },
    ledger: { topic: "refunds", handlerEntry: "src/handlers/ledger.ts" },
  },
});

describe("defineTopology", () => {
  it("GIVEN a consumer declaring only topic and handler WHEN resolved THEN it gets the defaults and a 6x visibility timeout", () => {
    const { invoice } = topology.consumers;
    expect(invoice.name).toBe("invoice");
    expect(invoice.batchSize).toBe(CONSUMER_DEFAULTS.batchSize);
    expect(invoice.maxReceiveCount).toBe(CONSUMER_DEFAULTS.maxReceiveCount);
    expect(invoice.timeoutSeconds).toBe(20);
    expect(invoice.visibilityTimeoutSeconds).toBe(120);
    expect(invoice.description).toBe("invoice consumer of orders");
  });

  it("GIVEN a consumer of a FIFO topic WHEN resolved THEN it gets the FIFO defaults (no batching window, more receives)", () => {
    const { ledger } = topology.consumers;
    expect(ledger.maxBatchingWindowSeconds).toBe(0);
    expect(ledger.maxReceiveCount).toBe(FIFO_CONSUMER_DEFAULTS.maxReceiveCount);
    expect(ledger.backoff).toEqual(FIFO_CONSUMER_DEFAULTS.backoff);
  });

  it("GIVEN a topic without accepts WHEN resolved THEN it accepts its current contract and is named by its key", () => {
    expect(topology.topics.refunds.accepts).toEqual([RefundIssuedV1]);
    expect(topology.topics.refunds.name).toBe("refunds");
  });

  it("GIVEN several mistakes WHEN defined THEN one InvalidTopologyError lists each", () => {
    let error: unknown;
    try {
      defineTopology({
        topics: { Orders: { current: OrderPlacedV1 } },
        consumers: {
          invoice: {
            // @ts-expect-error "payments" is not a topic of this topology
            topic: "payments",
            handlerEntry: "src/invoice.ts",
            timeoutSeconds: 60,
            visibilityTimeoutSeconds: 100,
            maxConcurrency: 1,
            needs: { secrets: ["stripe"] },
          },
        },
      });
    } catch (thrown) {
      error = thrown;
    }
    expect(error).toBeInstanceOf(InvalidTopologyError);
    const problems = (error as InvalidTopologyError).problems.join("\n");
    expect(problems).toContain('topic "Orders": a name is lowercase words');
    expect(problems).toContain(
      'subscribes to topic "payments", which the topology does not declare (topics: Orders)',
    );
    expect(problems).toContain("visibilityTimeoutSeconds 100 is under 6 × timeoutSeconds (360)");
    expect(problems).toContain("maxConcurrency 1 is not a whole number from 2 to 1000");
    expect(problems).toContain('needs secret "stripe", which the topology does not declare');
  });

  it("GIVEN a FIFO consumer with a batch over 10 WHEN defined THEN it is refused as Lambda's FIFO trigger would", () => {
    expect(() =>
      defineTopology({
        topics: { refunds: { current: RefundIssuedV1, ordering: { groupBy: "accountId" } } },
        consumers: { ledger: { topic: "refunds", handlerEntry: "x.ts", batchSize: 50 } },
      }),
    ).toThrow(/batchSize 50 is not a whole number from 1 to 10/);
  });
});

describe("typed from the topology", () => {
  it("GIVEN a consumer of a topic accepting two versions WHEN its handler is typed THEN the message is the union of both envelopes", () => {
    const handler = defineConsumer(topology, {
      name: "invoice",
      handle: (message) => {
        expectTypeOf(message.type).toEqualTypeOf<"OrderPlaced">();
        expectTypeOf(message.version).toEqualTypeOf<1 | 2>();
        if (message.version === 1) expectTypeOf(message.data.totalCents).toEqualTypeOf<number>();
        else expectTypeOf(message.data.total.currency).toEqualTypeOf<string>();
      },
    });
    expect(typeof handler).toBe("function");
  });

  it("GIVEN a name the topology lacks WHEN a consumer is defined THEN it does not compile and throws naming the consumers", () => {
    expect(() =>
      defineConsumer(topology, {
        // @ts-expect-error "shipping" is not a consumer of this topology
        name: "shipping",
        handle: () => undefined,
      }),
    ).toThrow('unknown consumer "shipping"; known consumers: invoice, ledger');
  });

  it("GIVEN the publisher WHEN data is passed THEN it is the current contract's input, and a wrong topic does not compile", () => {
    const publisher = createPublisher(topology, {
      sns: new SNSClient({ region: "us-east-1" }),
      topicArns: { orders: "arn:aws:sns:us-east-1:000000000000:orders" },
      producer: "type-test",
    });
    type OrdersData = Parameters<typeof publisher.publish<"orders">>[1];
    expectTypeOf<OrdersData>().toEqualTypeOf<{
      orderId: string;
      total: { cents: number; currency: string };
    }>();
    // @ts-expect-error "payments" is not a topic of this topology
    const wrong = () => publisher.publish("payments", {});
    // @ts-expect-error v1's shape is accepted by consumers but not published: producers send the current contract
    const old = () => publisher.publish("orders", { orderId: "o-1", totalCents: 5, priority: "high" });
    expect(typeof wrong).toBe("function");
    expect(typeof old).toBe("function");
  });
});
