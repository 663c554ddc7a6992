/**
 * Reading and checking the needs a topology entry declares. The CDK stack (grants, nag
 * acknowledgements) and `consumerEnvironment()` (variables) both start from `needsOf()`, and the
 * stack refuses a topology `topologyProblems()` finds fault with before it builds anything.
 */
import { isSettingName, type SettingName, settingNames } from "../../../../src/app/deployment/deploy-settings.ts";
import { topicSizeProblems } from "./topic-size.ts";
import type { ConsumerSpec, TopologySpec } from "../../../../src/topology.ts";

/** A consumer's needs with every field present: what the stack grants and the environment holds. */
export interface ResolvedNeeds {
  readonly settings: readonly SettingName[];
  readonly secrets: readonly string[];
  readonly idempotencyTable: boolean;
  readonly uploads: { readonly read: readonly string[]; readonly write: readonly string[] };
  readonly sendsEmail: boolean;
  readonly sendsSms: boolean;
  readonly nativeModules: readonly string[];
  readonly appendsAuditTrail: boolean;
}

export function needsOf(spec: Pick<ConsumerSpec<string>, "needs">): ResolvedNeeds {
  const needs = spec.needs ?? {};
  return {
    settings: needs.settings ?? [],
    secrets: needs.secrets ?? [],
    idempotencyTable: needs.idempotencyTable ?? false,
    uploads: { read: needs.uploads?.read ?? [], write: needs.uploads?.write ?? [] },
    sendsEmail: needs.sendsEmail ?? false,
    sendsSms: needs.sendsSms ?? false,
    nativeModules: needs.nativeModules ?? [],
    appendsAuditTrail: needs.appendsAuditTrail ?? false,
  };
}

/** Whether the consumer touches the uploads bucket at all. */
export function usesUploads(needs: ResolvedNeeds): boolean {
  return needs.uploads.read.length > 0 || needs.uploads.write.length > 0;
}

/** "verification" -> "VERIFICATION_SECRET_ARN": the variable a consumer receives a secret's ARN in. */
export function secretArnEnv(secret: string): string {
  const constant = secret
    .replace(/([a-z0-9])([A-Z])/g, "$1_$2")
    .replace(/[^A-Za-z0-9]+/g, "_")
    .toUpperCase();
  return `${constant}_SECRET_ARN`;
}

/** Consumer, topic and secret names become queue names and logical ids: lowercase words and dashes. */
const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
/** A key prefix: path segments, each followed by "/", no wildcard (the grant adds it). */
const PREFIX = /^([A-Za-z0-9!_.'()-]+\/)+$/;

/** What is wrong with a topology, one line each naming the entry; empty when it can be rendered. */
export function topologyProblems(topology: TopologySpec): string[] {
  const problems: string[] = [];
  const topicNames = Object.keys(topology.topics);
  const secretNames = Object.keys(topology.secrets);
  const known = (names: string[]) => (names.length > 0 ? names.join(", ") : "none");

  if (topicNames.length === 0) problems.push("the topology declares no topic");
  for (const name of topicNames) {
    if (!NAME.test(name)) problems.push(`topic "${name}": a name is lowercase words joined by "-"`);
  }
  problems.push(...topicSizeProblems(topology));
  for (const name of secretNames) {
    if (!NAME.test(name)) problems.push(`secret "${name}": a name is lowercase words joined by "-"`);
  }
  const entries = Object.entries(topology.consumers);
  if (entries.length === 0) problems.push("the topology declares no consumer");
  for (const [key, spec] of entries) {
    const at = `consumer "${key}"`;
    if (!NAME.test(key)) problems.push(`${at}: a name is lowercase words joined by "-"`);
    if (spec.name !== key) problems.push(`${at}: its name field says "${spec.name}"`);
    if (!Object.hasOwn(topology.topics, spec.topic)) {
      problems.push(
        `${at} subscribes to topic "${spec.topic}", which the topology does not declare (topics: ${known(topicNames)})`,
      );
    }
    const needs = spec.needs ?? {};
    for (const setting of needs.settings ?? []) {
      if (!isSettingName(setting)) {
        problems.push(
          `${at} needs setting "${setting}", which is not a deploy setting (settings: ${known(settingNames)})`,
        );
      }
    }
    for (const secret of needs.secrets ?? []) {
      if (!Object.hasOwn(topology.secrets, secret)) {
        problems.push(
          `${at} needs secret "${secret}", which the topology does not declare (secrets: ${known(secretNames)})`,
        );
      }
    }
    for (const [access, prefixes] of Object.entries(needs.uploads ?? {})) {
      for (const prefix of prefixes ?? []) {
        if (!PREFIX.test(prefix)) {
          problems.push(
            `${at} needs to ${access} uploads prefix "${prefix}": a prefix is path segments ending in "/", without wildcards`,
          );
        }
      }
    }
    // The SMS cap is counted in the idempotency table: without the table need there is no grant on it.
    if (spec.smsCap && !(needs.idempotencyTable && needs.sendsSms)) {
      problems.push(`${at} has an smsCap, which needs sendsSms and the idempotency table (it counts there)`);
    }
    for (const module of needs.nativeModules ?? []) {
      if (!/^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/.test(module)) {
        problems.push(`${at} needs native module "${module}", which is not an npm package name`);
      }
    }
    const lists: Array<[string, readonly string[]]> = [
      ["setting", needs.settings ?? []],
      ["secret", needs.secrets ?? []],
    ];
    for (const [kind, list] of lists) {
      const duplicate = list.find((item, i) => list.indexOf(item) !== i);
      if (duplicate) problems.push(`${at} lists ${kind} "${duplicate}" twice`);
    }
  }
  return problems;
}
