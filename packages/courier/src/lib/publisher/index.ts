export * from "./chunks.ts";
export { buildMessage, type PreparedMessage, prepareMessage } from "./envelope.ts";
export * from "./errors.ts";
export * from "./publisher.ts";
export * from "./size.ts";
