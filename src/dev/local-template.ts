/**
 * Turns the CDK app's CloudFormation template into the one LocalStack deploys here: the same
 * topics, queues, DLQs, subscriptions, policies, keys and alarms, without what the emulator cannot
 * run (Lambda functions and their event source mappings: its only executor is Docker; DynamoDB:
 * it downloads DynamoDB Local at first use; custom resources: silently skipped, so anything waiting
 * on their attributes would break). The local runtime supplies those pieces from the local side.
 *
 * Outputs are kept: a `Ref` or `Fn::GetAtt` in one to a removed resource becomes "" (the manifest
 * reads "" as absent), except a `Ref` to a removed DynamoDB table, which becomes
 * `localTableName(stackName, logicalId)`: the local run creates that table on its DynamoDB-API server.
 *
 * One property is rewritten rather than removed: LocalStack 4.14's CloudFormation hands a queue's or
 * topic's `MaximumMessageSize` to the SQS/SNS API as the template's number, which that API refuses
 * ("valid types: <class 'str'>"); CloudFormation on AWS takes the number. It is passed as a string.
 *
 * Pure: no I/O, so the cascade is unit-tested on plain objects.
 */

export interface CfnResource {
  readonly Type: string;
  readonly Properties?: Record<string, unknown>;
  readonly DependsOn?: string | readonly string[];
  readonly Condition?: string;
  readonly [key: string]: unknown;
}

export interface CfnOutput {
  readonly Value: unknown;
  readonly [key: string]: unknown;
}

export interface CfnTemplate {
  readonly Resources: Record<string, CfnResource>;
  readonly Outputs?: Record<string, CfnOutput>;
  readonly Parameters?: Record<string, unknown>;
  readonly Rules?: Record<string, unknown>;
  readonly Conditions?: Record<string, unknown>;
  readonly [key: string]: unknown;
}

export type RemovalReason =
  | { readonly kind: "unsupported"; readonly type: string }
  /** The resource or output refers to something already removed (Ref, Fn::GetAtt, Fn::Sub or DependsOn). */
  | { readonly kind: "references"; readonly removed: string };

export interface Removed {
  readonly logicalId: string;
  /** The resource type; "Output", "Parameter" or "Rule" for template sections. */
  readonly type: string;
  readonly reason: RemovalReason;
}

export interface LocalTemplate {
  readonly template: CfnTemplate;
  /** Every removed resource, output, parameter and rule, in removal order. */
  readonly removed: readonly Removed[];
}

/** The name a removed DynamoDB table has on the local DynamoDB-API server. */
export function localTableName(stackName: string, logicalId: string): string {
  return `${stackName}-${logicalId}`;
}

export interface LocalTemplateOptions {
  /** Names the local stand-ins of removed tables. @default "local" */
  readonly stackName?: string;
}

/** The parameter the CDK's default synthesizer adds to check the bootstrap stack; nothing is bootstrapped locally. */
export const BOOTSTRAP_VERSION_PARAMETER = "BootstrapVersion";

/** Resource types LocalStack cannot run here (see the module comment). */
export function unsupportedLocally(type: string): boolean {
  return (
    type === "AWS::Lambda::Function" ||
    type === "AWS::Lambda::EventSourceMapping" ||
    type === "AWS::DynamoDB::Table" ||
    type === "AWS::CloudFormation::CustomResource" ||
    type.startsWith("Custom::") ||
    type === "AWS::CDK::Metadata"
  );
}

/** Types whose numeric MaximumMessageSize LocalStack's CloudFormation passes on unconverted. */
const STRINGIFIED_SIZE_TYPES = new Set(["AWS::SQS::Queue", "AWS::SNS::Topic"]);

function withStringSize(resource: CfnResource): CfnResource {
  const size = resource.Properties?.MaximumMessageSize;
  if (!STRINGIFIED_SIZE_TYPES.has(resource.Type) || typeof size !== "number") return resource;
  return { ...resource, Properties: { ...resource.Properties, MaximumMessageSize: String(size) } };
}

/** Logical ids a `${...}` template string names: not pseudo parameters, not `${!literal}`, not Sub variables. */
function subReferences(text: string, variables: ReadonlySet<string>): string[] {
  const ids: string[] = [];
  for (const match of text.matchAll(/\$\{([^}]*)\}/g)) {
    const inner = match[1] ?? "";
    if (inner.startsWith("!")) continue;
    const id = inner.split(".")[0] ?? "";
    if (!id || id.startsWith("AWS::") || variables.has(id)) continue;
    ids.push(id);
  }
  return ids;
}

/** Every logical id (resource or parameter) a template fragment refers to. */
export function referencedIds(value: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(value)) {
    for (const item of value) referencedIds(item, into);
    return into;
  }
  if (value === null || typeof value !== "object") return into;
  const record = value as Record<string, unknown>;
  for (const [key, inner] of Object.entries(record)) {
    if (key === "Ref" && typeof inner === "string") {
      if (!inner.startsWith("AWS::")) into.add(inner);
    } else if (key === "Fn::GetAtt") {
      if (typeof inner === "string") {
        const id = inner.split(".")[0];
        if (id) into.add(id);
      } else if (Array.isArray(inner)) {
        if (typeof inner[0] === "string") into.add(inner[0]);
        referencedIds(inner.slice(1), into);
      }
    } else if (key === "Fn::Sub") {
      if (typeof inner === "string") {
        for (const id of subReferences(inner, new Set())) into.add(id);
      } else if (Array.isArray(inner)) {
        const [text, variables] = inner as [unknown, unknown];
        const names = new Set(variables && typeof variables === "object" ? Object.keys(variables) : []);
        if (typeof text === "string") for (const id of subReferences(text, names)) into.add(id);
        referencedIds(variables, into);
      }
    } else if (key === "DependsOn") {
      for (const id of typeof inner === "string" ? [inner] : Array.isArray(inner) ? inner : []) {
        if (typeof id === "string") into.add(id);
      }
    } else {
      referencedIds(inner, into);
    }
  }
  return into;
}

function firstRemoved(refs: ReadonlySet<string>, removed: ReadonlySet<string>): string | undefined {
  for (const id of refs) if (removed.has(id)) return id;
  return undefined;
}

/**
 * Removes what LocalStack cannot run, then, until nothing changes, every resource and rule that
 * refers to something removed; in outputs such references are replaced. The input is not modified.
 */
export function localTemplate(source: CfnTemplate, options: LocalTemplateOptions = {}): LocalTemplate {
  const stackName = options.stackName ?? "local";
  const removed: Removed[] = [];
  const gone = new Set<string>();
  const resources: Record<string, CfnResource> = { ...source.Resources };
  const parameters: Record<string, unknown> = { ...(source.Parameters ?? {}) };
  const rules: Record<string, unknown> = { ...(source.Rules ?? {}) };
  const outputs: Record<string, CfnOutput> = { ...(source.Outputs ?? {}) };

  if (BOOTSTRAP_VERSION_PARAMETER in parameters) {
    delete parameters[BOOTSTRAP_VERSION_PARAMETER];
    gone.add(BOOTSTRAP_VERSION_PARAMETER);
    removed.push({
      logicalId: BOOTSTRAP_VERSION_PARAMETER,
      type: "Parameter",
      reason: { kind: "unsupported", type: "Parameter" },
    });
  }
  for (const [id, resource] of Object.entries(resources)) {
    if (unsupportedLocally(resource.Type)) {
      delete resources[id];
      gone.add(id);
      removed.push({
        logicalId: id,
        type: resource.Type,
        reason: { kind: "unsupported", type: resource.Type },
      });
    }
  }

  // Cascade to a fixed point: removing one resource can orphan another that refers to it.
  let changed = true;
  while (changed) {
    changed = false;
    for (const [id, resource] of Object.entries(resources)) {
      const culprit = firstRemoved(referencedIds(resource), gone);
      if (culprit) {
        delete resources[id];
        gone.add(id);
        removed.push({
          logicalId: id,
          type: resource.Type,
          reason: { kind: "references", removed: culprit },
        });
        changed = true;
      }
    }
  }

  // Outputs stay, with references to what was removed replaced (see the module comment).
  const stand = (id: string, attribute: string | undefined): string | undefined => {
    if (!gone.has(id) || !Object.hasOwn(source.Resources, id)) return undefined;
    return source.Resources[id]?.Type === "AWS::DynamoDB::Table" && attribute === undefined
      ? localTableName(stackName, id)
      : "";
  };
  for (const [id, output] of Object.entries(outputs)) {
    const replaced = replaceRemoved(output, stand) as CfnOutput;
    // An output that was nothing but such a reference says nothing (and CloudFormation wants a value).
    if (replaced.Value === "") {
      delete outputs[id];
      const culprit = firstRemoved(referencedIds(output), gone) ?? "";
      removed.push({ logicalId: id, type: "Output", reason: { kind: "references", removed: culprit } });
    } else {
      outputs[id] = replaced;
    }
  }
  for (const [id, rule] of Object.entries(rules)) {
    const culprit = firstRemoved(referencedIds(rule), gone);
    if (culprit) {
      delete rules[id];
      removed.push({ logicalId: id, type: "Rule", reason: { kind: "references", removed: culprit } });
    }
  }

  for (const [id, resource] of Object.entries(resources)) resources[id] = withStringSize(resource);
  const template: Record<string, unknown> = { ...source, Resources: resources };
  const setOrDrop = (key: string, section: Record<string, unknown>) => {
    if (Object.keys(section).length > 0) template[key] = section;
    else delete template[key];
  };
  setOrDrop("Parameters", parameters);
  setOrDrop("Rules", rules);
  setOrDrop("Outputs", outputs);
  return { template: template as CfnTemplate, removed };
}

/**
 * The fragment with every `Ref` / `Fn::GetAtt` (and `${...}` in `Fn::Sub`) that `stand` has a value
 * for replaced by that value.
 */
function replaceRemoved(
  value: unknown,
  stand: (id: string, attribute: string | undefined) => string | undefined,
): unknown {
  if (Array.isArray(value)) return value.map((item) => replaceRemoved(item, stand));
  if (value === null || typeof value !== "object") return value;
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length === 1) {
    const [key] = keys as [string];
    const inner = record[key];
    if (key === "Ref" && typeof inner === "string") {
      const replacement = stand(inner, undefined);
      if (replacement !== undefined) return replacement;
    }
    if (key === "Fn::GetAtt") {
      const [id, attribute] =
        typeof inner === "string" ? (inner.split(".") as [string, string?]) : (inner as [unknown, unknown]);
      if (typeof id === "string") {
        const replacement = stand(id, typeof attribute === "string" ? attribute : "");
        if (replacement !== undefined) return replacement;
      }
    }
    if (key === "Fn::Sub") {
      const [text, variables] =
        typeof inner === "string" ? [inner, undefined] : (inner as [unknown, unknown]);
      if (typeof text === "string") {
        const names = new Set(variables && typeof variables === "object" ? Object.keys(variables) : []);
        const replaced = text.replace(/\$\{([^}!][^}]*)\}/g, (whole, ref: string) => {
          const [id, attribute] = ref.split(".") as [string, string?];
          if (names.has(id)) return whole;
          return stand(id, attribute) ?? whole;
        });
        const rest = variables === undefined ? undefined : replaceRemoved(variables, stand);
        return { "Fn::Sub": rest === undefined ? replaced : [replaced, rest] };
      }
    }
  }
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, replaceRemoved(v, stand)]));
}

/** One line per removal, for `courier local up` and the test log. */
export function describeRemovals(removed: readonly Removed[]): string[] {
  return removed.map((r) =>
    r.reason.kind === "unsupported"
      ? `${r.logicalId} (${r.type}): not run by LocalStack here`
      : `${r.logicalId} (${r.type}): refers to removed ${r.reason.removed}`,
  );
}
