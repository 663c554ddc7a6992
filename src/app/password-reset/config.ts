/** password-reset-email's configuration, parsed from the environment at cold start. */
// zod/mini: configuration parsed at every cold start, in the consumer's bundle (courier's lib/zod.ts).
import * as z from "zod/mini";
import { ENV } from "../deployment/example-env.ts";
import { SignupConfigError } from "../signup/config.ts";

const schema = z.object({
  [ENV.verificationSecretArn]: z
    .string()
    .check(z.trim(), z.minLength(1, "is not set (the Secrets Manager ARN of the HMAC key)")),
  [ENV.mailFrom]: z.string().check(z.trim(), z.minLength(3, "is not set (the SES-verified sender)")),
  [ENV.verifyUrlBase]: z.url({
    protocol: /^https?$/,
    error: "must be an http(s) URL (the verification page; the reset page is beside it)",
  }),
});

/** The password reset page: beside the verification page on the same site (…/verify -> …/reset-password). */
export function resetUrlBase(verifyUrlBase: string): string {
  return new URL("reset-password", verifyUrlBase).toString();
}

export interface PasswordResetEmailConfig {
  readonly verificationSecretArn: string;
  readonly mailFrom: string;
  readonly resetUrlBase: string;
}

export function passwordResetEmailConfig(env: NodeJS.ProcessEnv = process.env): PasswordResetEmailConfig {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => `${String(issue.path[0] ?? "?")} ${issue.message}`);
    throw new SignupConfigError(`password-reset-email: invalid configuration: ${problems.join("; ")}`);
  }
  return {
    verificationSecretArn: result.data[ENV.verificationSecretArn],
    mailFrom: result.data[ENV.mailFrom],
    resetUrlBase: resetUrlBase(result.data[ENV.verifyUrlBase]),
  };
}
