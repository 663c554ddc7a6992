/**
 * Checks the example's own needs (`exampleNeeds` in src/topology.ts) before the stack grants them:
 * what the generic topology check cannot know (deploy settings, uploads prefixes, the SMS cap).
 */
import { isSettingName, settingNames } from "../../src/app/deployment/deploy-settings.ts";
import type { ExampleNeeds } from "../../src/app/deployment/example-needs.ts";

/** A key prefix: path segments, each followed by "/", no wildcard (the grant adds it). */
const PREFIX = /^([A-Za-z0-9!_.'()-]+\/)+$/;

export interface ResolvedExampleNeeds {
  readonly settings: NonNullable<ExampleNeeds["settings"]>;
  readonly uploads: { readonly read: readonly string[]; readonly write: readonly string[] };
  readonly sendsEmail: boolean;
  readonly sendsSms: boolean;
  readonly appendsAuditTrail: boolean;
  readonly smsCap: ExampleNeeds["smsCap"];
}

export function exampleNeedsOf(needs: ExampleNeeds | undefined): ResolvedExampleNeeds {
  return {
    settings: needs?.settings ?? [],
    uploads: { read: needs?.uploads?.read ?? [], write: needs?.uploads?.write ?? [] },
    sendsEmail: needs?.sendsEmail ?? false,
    sendsSms: needs?.sendsSms ?? false,
    appendsAuditTrail: needs?.appendsAuditTrail ?? false,
    smsCap: needs?.smsCap,
  };
}

/** One line per problem, naming the consumer; empty when the needs can be granted. */
export function exampleNeedsProblems(
  consumers: Readonly<Record<string, { readonly needs?: { readonly idempotencyTable?: boolean } }>>,
  needs: Readonly<Record<string, ExampleNeeds>>,
): string[] {
  const problems: string[] = [];
  const known = Object.keys(consumers);
  for (const [name, raw] of Object.entries(needs)) {
    const at = `consumer "${name}"`;
    const consumer = Object.hasOwn(consumers, name) ? consumers[name] : undefined;
    if (!consumer) {
      problems.push(`${at} has example needs but is not in the topology (consumers: ${known.join(", ")})`);
      continue;
    }
    for (const setting of raw.settings ?? []) {
      if (!isSettingName(setting)) {
        problems.push(
          `${at} needs setting "${setting}", which is not a deploy setting (settings: ${settingNames.join(", ")})`,
        );
      }
    }
    const settings = raw.settings ?? [];
    const duplicate = settings.find((item, i) => settings.indexOf(item) !== i);
    if (duplicate) problems.push(`${at} lists setting "${duplicate}" twice`);
    for (const [access, prefixes] of Object.entries(raw.uploads ?? {})) {
      for (const prefix of prefixes ?? []) {
        if (!PREFIX.test(prefix)) {
          problems.push(
            `${at} needs to ${access} uploads prefix "${prefix}": a prefix is path segments ending in "/", without wildcards`,
          );
        }
      }
    }
    // The SMS cap is counted in the idempotency table: without the table need there is no grant on it.
    if (raw.smsCap && !(consumer.needs?.idempotencyTable && raw.sendsSms)) {
      problems.push(`${at} has an smsCap, which needs sendsSms and the idempotency table (it counts there)`);
    }
  }
  return problems;
}
