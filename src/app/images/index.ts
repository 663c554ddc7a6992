export * from "./config.ts";
export * from "./errors.ts";
export * from "./keys.ts";
export * from "./render.ts";
export * from "./store-upload.ts";
export * from "./thumbnails.ts";
