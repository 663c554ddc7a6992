/** Kept until the example's executable imports `@courier-queue/courier/cli` (./index.ts). */
export { operatorCommands, runCli } from "./index.ts";
