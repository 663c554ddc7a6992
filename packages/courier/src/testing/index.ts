/**
 * @courier-queue/courier/testing: test a team's consumers under Lambda's SQS trigger semantics,
 * in-process, in milliseconds. No LocalStack, no network, no CDK.
 *
 *   const kit = createTestKit(orders, { handlers: { invoice: handler } });
 *   const { eventId } = await kit.publisher.publish("orders", order);
 *   await kit.waitFor("invoice", { eventId, outcome: "processed" });
 */
export type { RecordOutcome } from "../lib/consumer/outcomes.ts";
export type { Clock, ClockTimer } from "../worker/clock.ts";
export { ManualClock } from "./manual-clock.ts";
export { type MemoryQueue, type MemoryQueueSettings, MemorySqs } from "./memory-sqs.ts";
export {
  createTestKit,
  type DeadLetter,
  type OutcomeMatch,
  type OutcomeName,
  type PublishedMessage,
  type QueueState,
  type RawPublishOptions,
  type SeenOutcome,
  TestKit,
  type TestKitOptions,
  WaitForTimeoutError,
  type WaitOptions,
} from "./test-kit.ts";
