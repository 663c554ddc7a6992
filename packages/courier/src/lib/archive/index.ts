export * from "./archive-entry.ts";
export * from "./archive-keys.ts";
export * from "./archive-store.ts";
export * from "./archiver-config.ts";
