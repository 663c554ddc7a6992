/**
 * The example's `courier` executable: the package's operator commands plus the commands that only serve a
 * laptop (src/dev: `local up|down`, `start`). Each dev command loads its heavy parts (aws-cdk-lib,
 * the LocalStack harness) only when it runs, so operator commands start fast.
 */
import { operatorCommands, runCli } from "@courier-queue/courier/cli";
import { register as registerLocal } from "./dev/commands/local.ts";
import { register as registerStart } from "./dev/commands/start.ts";

await runCli([...operatorCommands, registerLocal, registerStart]);
