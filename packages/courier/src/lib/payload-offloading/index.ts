export * from "./errors.ts";
export * from "./payload-resolver.ts";
export * from "./payload-store.ts";
export * from "./pointer.ts";
