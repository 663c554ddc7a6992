export * from "./config.ts";
export * from "./export-file.ts";
export * from "./export-request.ts";
