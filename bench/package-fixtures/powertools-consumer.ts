// The peer: the same consumer written with Powertools for AWS Lambda alone (BatchProcessor,
// processPartialResponse, Logger) and the same zod contract.
import { BatchProcessor, EventType, processPartialResponse } from "@aws-lambda-powertools/batch";
import { Logger } from "@aws-lambda-powertools/logger";
import type { Context, SQSEvent, SQSRecord } from "aws-lambda";
import * as z from "zod";

const logger = new Logger({ serviceName: "invoice" });
const processor = new BatchProcessor(EventType.SQS);
const orderPlaced = z.object({
  eventId: z.uuid(),
  type: z.literal("OrderPlaced"),
  version: z.literal(1),
  data: z.object({ orderId: z.string(), customerEmail: z.email(), totalCents: z.number().int() }),
});

const recordHandler = async (record: SQSRecord) => {
  const message = orderPlaced.parse(JSON.parse(record.body));
  if (message.data.totalCents < 0) throw new Error("negative total");
  logger.info("invoiced", { orderId: message.data.orderId });
};

export const handler = async (event: SQSEvent, context: Context) =>
  processPartialResponse(event, recordHandler, processor, { context });
