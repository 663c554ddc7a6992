export * from "./account-export-requested.ts";
export * from "./image-uploaded.ts";
export * from "./new-account.ts";
export * from "./password-reset-requested.ts";
