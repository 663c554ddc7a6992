/**
 * The example's `courier` executable: the package's operator commands plus the commands that only serve a
 * laptop (src/dev: `local up|down`, `start`). Each dev command loads its heavy parts (aws-cdk-lib,
 * the LocalStack harness) only when it runs, so operator commands start fast.
 */
import { operatorCommands, runCli, STACK_ENV } from "@courier-queue/courier/cli";
import { DEFAULT_STACK_NAME } from "./app/deployment/example-outputs.ts";
import { register as registerLocal } from "./dev/commands/local.ts";
import { register as registerStart } from "./dev/commands/start.ts";

// The package's CLI asks which stack; in the example's repository it is the example's own unless
// --stack or COURIER_STACK says otherwise.
process.env[STACK_ENV] ??= DEFAULT_STACK_NAME;

await runCli([...operatorCommands, registerLocal, registerStart]);
