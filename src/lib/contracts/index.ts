export * from "./account-export-requested.ts";
export * from "./contract.ts";
export * from "./envelope.ts";
export * from "./image-uploaded.ts";
export * from "./new-account.ts";
export * from "./password-reset-requested.ts";
export * from "./text.ts";
export type { TopicOrdering, TopicSpec } from "./topic-spec.ts";
