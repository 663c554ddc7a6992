import { ConfigError, parseEnv } from "@courier-queue/courier";
// zod/mini: configuration parsed at every cold start, in the consumer's bundle (courier's lib/zod.ts).
import * as z from "zod/mini";

export interface AccountExportConfig {
  /** Where the export files go, under exports/. */
  readonly uploadsBucket: string;
}

const envSchema = z.object({
  UPLOADS_BUCKET: z
    .string({ error: "UPLOADS_BUCKET is required: the bucket the export files are written to" })
    .check(z.minLength(3, "UPLOADS_BUCKET must be a bucket name")),
});

/** Thrown at cold start when the environment is incomplete. */
export class AccountExportConfigError extends ConfigError {
  override readonly name = "AccountExportConfigError";
}

export function accountExportConfig(env: NodeJS.ProcessEnv = process.env): AccountExportConfig {
  const e = parseEnv(envSchema, env, {
    context: "account-export: invalid configuration",
    error: AccountExportConfigError,
  });
  return { uploadsBucket: e.UPLOADS_BUCKET };
}
