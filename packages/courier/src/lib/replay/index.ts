export * from "./filter-policy.ts";
export * from "./replay.ts";
export * from "./time.ts";
