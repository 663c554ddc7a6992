/**
 * Per-file setup for the integration project, whose files run side by side against one LocalStack.
 *
 * - A DynamoDB-API port of its own. A file that needs one starts dynalite in its own process
 *   (src/dev/dynamodb-local.ts); on the shared default port (8000) a second file would reuse the
 *   first file's server and lose it when that file ends. Worker processes it spawns inherit the port.
 * - Short long-polls for worker processes and `startLocalSystem` (COURIER_WORKER_WAIT_SECONDS, 20 by
 *   default): a stop waits for every parked receive to return, so nothing is left hidden, and with 20 s
 *   each stop in a file cost up to 20 s. The default wait's own behaviour is tested explicitly
 *   (worker-shutdown.test.ts); a file that sets the variable keeps its value.
 */
import { WORKER_WAIT_SECONDS_ENV } from "../../../packages/courier/src/worker/worker-environment.ts";
import { freePort } from "../../helpers/free-port.ts";

process.env.COURIER_DYNAMODB_PORT = String(await freePort());
process.env[WORKER_WAIT_SECONDS_ENV] ??= "2";
