/** security-audit's configuration, parsed from the environment at cold start. */
import { ENV } from "../deployment/example-env.ts";
import { SignupConfigError } from "../signup/config.ts";

export function securityAuditConfig(env: NodeJS.ProcessEnv = process.env): { readonly auditTable: string } {
  const auditTable = env[ENV.auditTable]?.trim();
  if (!auditTable)
    throw new SignupConfigError(
      `security-audit: invalid configuration: ${ENV.auditTable} is not set (the audit trail table)`,
    );
  return { auditTable };
}
