import { randomBytes } from "node:crypto";

/** A CloudFormation stack name: letters, digits and hyphens, starting with a letter, unique per call. */
export function testStackName(prefix: string): string {
  const safe = prefix.replace(/[^A-Za-z0-9-]+/g, "-").replace(/^[^A-Za-z]+/, "");
  return `t-${safe || "stack"}-${randomBytes(4).toString("hex")}`.slice(0, 60);
}
