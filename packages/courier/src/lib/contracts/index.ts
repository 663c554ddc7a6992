export * from "./contract.ts";
export * from "./envelope.ts";
export * from "./text.ts";
export type { PayloadLocationSpec, TopicOrdering, TopicSpec } from "./topic-spec.ts";
