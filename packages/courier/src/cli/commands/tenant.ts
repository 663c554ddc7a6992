/**
 * `courier tenant pause|quarantine|release <consumer> <tenant>` and `courier tenant list
 * [consumer]`: hold one tenant's messages on one consumer while it serves everyone else. Paused:
 * they wait (sent back to the queue with a delay, never dead-lettered by their receive count);
 * quarantined: they go to the consumer's DLQ with the reason `tenant-quarantined`; released: they
 * flow again (quarantined ones wait in the DLQ for `courier redrive`). The tenant is the value of
 * the topic's tenant field (an account id); the controls are tags on the consumer's queue, which
 * the consumer runtime reads within seconds, on Lambda and in workers alike
 * (lib/consumer/tenant-controls.ts).
 */
import type { Command } from "commander";
import type { DeployedConsumer } from "../../deployment/deployed-topology.ts";
import {
  PAUSED_TENANT_DELAY_SECONDS,
  readTenantControls,
  setTenantControl,
  TENANT_CONTROLS_TTL_MS,
  TENANT_QUARANTINED_ERROR,
  type TenantControl,
  type TenantState,
  tenantTagKey,
} from "../../lib/consumer/tenant-controls.ts";
import { messageGroupIdFor } from "../../lib/publisher/ordering.ts";
import { sqsClient } from "../../lib/sqs-client.ts";
import { CliError, emit, type OutputOptions } from "../output.ts";
import {
  commandTarget,
  deployedTopology,
  stackConsumer,
  type TargetCliOptions,
  withTargetOptions,
} from "../target.ts";

interface TenantOptions extends OutputOptions, TargetCliOptions {}

const ACTIONS: ReadonlyArray<{ verb: string; state: TenantState | undefined; description: string }> = [
  {
    verb: "pause",
    state: "paused",
    description: "Hold one tenant's messages on one consumer (they wait in its queue); others flow",
  },
  {
    verb: "quarantine",
    state: "quarantined",
    description: `Send one tenant's messages on one consumer to its DLQ (reason tenant-quarantined); others flow`,
  },
  { verb: "release", state: undefined, description: "End a tenant's pause or quarantine on a consumer" },
];

/** The consumer, refused with a reason when its topic names no tenant (or is FIFO). */
function tenantConsumer(deployed: DeployedConsumer): DeployedConsumer {
  if (deployed.fifo) {
    throw new CliError(
      `consumer "${deployed.name}" reads a FIFO topic: its message groups keep their order, and per-tenant controls apply to standard topics only (courier pause holds the whole consumer)`,
    );
  }
  if (deployed.tenant === undefined) {
    throw new CliError(
      `consumer "${deployed.name}" reads topic "${deployed.topic}", which names no tenant (add tenant: { from: ... } to the topic)`,
    );
  }
  return deployed;
}

export function register(program: Command): void {
  const tenant = program
    .command("tenant")
    .description(
      "Per-tenant controls on a consumer of a topic with tenants: pause, quarantine, release, list",
    );
  for (const { verb, state, description } of ACTIONS) {
    const command = tenant
      .command(verb)
      .description(description)
      .argument("<consumer>", "a consumer of a topic with tenants (`courier tenant list` shows them)")
      .argument("<tenant>", "the tenant: the value of the topic's tenant field, e.g. an account id")
      .option("--json", "machine-readable output");
    withTargetOptions(command).action(async (name: string, value: string, options: TenantOptions) => {
      const where = await commandTarget(options);
      const deployed = tenantConsumer(stackConsumer(await deployedTopology(where), name));
      const groupId = messageGroupIdFor(value);
      try {
        await setTenantControl(sqsClient(where.config), deployed.queueUrl, groupId, state);
      } catch (error) {
        throw new CliError(`tenant ${verb} "${value}" on "${deployed.name}": ${(error as Error).message}`);
      }
      const result = {
        consumer: deployed.name,
        tenant: value,
        groupId,
        tag: tenantTagKey(groupId),
        state: state ?? "released",
      };
      emit(options, result, () => resultLine(deployed.name, value, state));
    });
  }
  const list = tenant
    .command("list")
    .description("Tenants paused or quarantined, per consumer of a topic with tenants")
    .argument("[consumer]", "one consumer; default every consumer of a topic with tenants")
    .option("--json", "machine-readable output");
  withTargetOptions(list).action(async (name: string | undefined, options: TenantOptions) => {
    const where = await commandTarget(options);
    const topology = await deployedTopology(where);
    const chosen = name
      ? [tenantConsumer(stackConsumer(topology, name))]
      : Object.values(topology.consumers).filter((c) => c.tenant !== undefined && !c.fifo);
    const sqs = sqsClient(where.config);
    const rows = await Promise.all(
      chosen.map(async (c) => {
        try {
          return {
            consumer: c.name,
            tenantField: c.tenant,
            held: [...(await readTenantControls(sqs, c.queueUrl)).values()],
          };
        } catch (error) {
          throw new CliError(`reading the tenant controls of "${c.name}": ${(error as Error).message}`);
        }
      }),
    );
    emit(options, { consumers: rows }, () => listText(rows));
  });
}

function resultLine(consumer: string, tenant: string, state: TenantState | undefined): string {
  const within = `within ${TENANT_CONTROLS_TTL_MS / 1000} s`;
  if (state === "paused") {
    return `${consumer}: tenant ${tenant} paused (${within}); its messages wait in the queue, looked at again every ${PAUSED_TENANT_DELAY_SECONDS} s; other tenants flow`;
  }
  if (state === "quarantined") {
    return `${consumer}: tenant ${tenant} quarantined (${within}); its messages go to the DLQ with reason tenant-quarantined; other tenants flow`;
  }
  return `${consumer}: tenant ${tenant} released (${within}); paused messages flow within ${PAUSED_TENANT_DELAY_SECONDS} s; quarantined ones wait in the DLQ (courier dlq peek ${consumer}; courier redrive ${consumer} moves them back, error class ${TENANT_QUARANTINED_ERROR})`;
}

function listText(
  rows: ReadonlyArray<{ consumer: string; tenantField?: string | undefined; held: TenantControl[] }>,
): string {
  if (rows.length === 0) return "no consumer of this stack reads a topic with tenants";
  return rows
    .map((r) =>
      r.held.length === 0
        ? `${r.consumer} (tenant: ${r.tenantField}): no tenant held`
        : [
            `${r.consumer} (tenant: ${r.tenantField}):`,
            ...r.held.map((h) => `  ${h.tenant}  ${h.state} since ${h.since}`),
          ].join("\n"),
    )
    .join("\n");
}
