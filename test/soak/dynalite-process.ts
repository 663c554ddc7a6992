/**
 * The soak's DynamoDB-API server in a process of its own (dynalite via src/local/dynamodb-local.ts):
 * the workers that record their effects in it get killed, it must not; and on two cores it should not
 * share an event loop with the runner's publishing and bookkeeping. Started by soak.ts with `fork`;
 * lives as long as its IPC channel.
 */
import { ensureLocalDynamo } from "../../src/dev/dynamodb-local.ts";

const port = Number(process.env.COURIER_SOAK_DYNAMO_PORT);
if (!process.send || !Number.isInteger(port)) throw new Error("dynalite-process runs only under soak.ts");
const dynamo = await ensureLocalDynamo({ port, env: {} });
process.send({ ready: dynamo.endpoint });
process.on("disconnect", () => process.exit(0));
