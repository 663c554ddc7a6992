export * from "./outbox-relay.ts";
export * from "./outbox-store.ts";
