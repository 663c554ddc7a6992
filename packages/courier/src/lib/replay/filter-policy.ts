/**
 * courier's subscription filter policies (attribute name to allowed string values, see
 * ConsumerDeclaration.filterPolicy) evaluated as SNS evaluates them on message attributes: every
 * named attribute must be present with one of its allowed values; a String.Array attribute matches
 * when any of its elements does. A replay sends a consumer only what its subscription would have.
 */
import type { ArchivedAttribute } from "../archive/archive-entry.ts";

export type FilterPolicy = Readonly<Record<string, readonly string[]>>;

export function filterPolicyAccepts(
  policy: FilterPolicy | undefined,
  attributes: Readonly<Record<string, ArchivedAttribute>>,
): boolean {
  if (!policy) return true;
  return Object.entries(policy).every(([name, allowed]) => {
    const attribute = attributes[name];
    if (!attribute) return false;
    if (attribute.type === "String.Array") {
      try {
        const values = JSON.parse(attribute.value) as unknown[];
        return Array.isArray(values) && values.some((v) => allowed.includes(String(v)));
      } catch {
        return false;
      }
    }
    return allowed.includes(attribute.value);
  });
}
