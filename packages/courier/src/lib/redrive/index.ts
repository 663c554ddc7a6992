/** Moving dead-lettered messages back to their source queue after a fix. */

export * from "./bulk.ts";
export * from "./cause.ts";
export * from "./discard.ts";
export * from "./dlq-message.ts";
export * from "./duration.ts";
export * from "./errors.ts";
export * from "./filter.ts";
export * from "./outgoing.ts";
export * from "./peek.ts";
export * from "./queue-depth.ts";
export * from "./receipts.ts";
export * from "./selective.ts";
export * from "./sns-dead-letter.ts";
