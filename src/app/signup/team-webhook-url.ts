/**
 * Where team-notify gets its webhook URL. A Slack-style webhook URL is a bearer secret, so in AWS
 * it lives in Secrets Manager (TEAM_WEBHOOK_SECRET_ARN) and is read once per cold start, like the
 * verification key; a local run may pass the URL itself (TEAM_WEBHOOK_URL).
 */
import type { SecretsProvider } from "@aws-lambda-powertools/parameters/secrets";
import { SignupConfigError, type TeamNotifySettings, webhookUrlSecretValue } from "./config.ts";

export type WebhookUrlSource = () => Promise<string>;

export function webhookUrlSource(
  settings: TeamNotifySettings,
  secrets: () => SecretsProvider,
): WebhookUrlSource {
  if ("webhookUrl" in settings) {
    const url = settings.webhookUrl;
    return async () => url;
  }
  const arn = settings.webhookSecretArn;
  let pending: Promise<string> | undefined;
  return () => {
    pending ??= secrets()
      .get(arn)
      .then((value) => {
        const text = typeof value === "string" ? value : value ? Buffer.from(value).toString("utf8") : "";
        const parsed = webhookUrlSecretValue.safeParse(text);
        // The value is never put in the error: it is the credential.
        if (!parsed.success)
          throw new SignupConfigError(`team webhook secret ${arn} does not hold an http(s) URL`);
        return parsed.data;
      })
      .catch((error: unknown) => {
        // A failed read is forgotten: the next record tries again (SQS retries this one).
        pending = undefined;
        throw error;
      });
    return pending;
  };
}
