/**
 * The environment each consumer function receives. The CDK stack passes CloudFormation tokens and
 * the local runtime passes the deployed stack's real values, through this one function, so the
 * two cannot drift apart.
 */
import { RUNTIME_ENV } from "../lib/runtime-env.ts";
import type { ConsumerName } from "./topology.ts";

export interface ConsumerResources {
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly verificationSecretArn: string;
  readonly uploadsBucket: string;
  readonly idempotencyTable?: string;
}

/** Per-deployment settings: CDK context in AWS, the local run's own values on a laptop. */
export interface DeploySettings {
  /** SES-verified sender of the verification email. */
  readonly mailFrom: string;
  /** Base of the verification link; the code and account id are appended as query parameters. */
  readonly verifyUrlBase: string;
  /**
   * The team chat webhook (Slack-style) team-notify posts to. A Slack webhook URL is a bearer
   * secret: in AWS prefer `teamWebhookSecretArn`, which keeps it out of the template.
   */
  readonly teamWebhookUrl: string;
  /** A Secrets Manager secret whose value is the webhook URL; when set, it replaces `teamWebhookUrl`. */
  readonly teamWebhookSecretArn?: string;
}

export const ENV = {
  ...RUNTIME_ENV,
  verificationSecretArn: "VERIFICATION_SECRET_ARN",
  mailFrom: "MAIL_FROM",
  verifyUrlBase: "VERIFY_URL_BASE",
  teamWebhookUrl: "TEAM_WEBHOOK_URL",
  teamWebhookSecretArn: "TEAM_WEBHOOK_SECRET_ARN",
  uploadsBucket: "UPLOADS_BUCKET",
} as const;

export function consumerEnvironment(
  consumer: ConsumerName,
  resources: ConsumerResources,
  settings: DeploySettings,
): Record<string, string> {
  const common: Record<string, string> = {
    [ENV.consumer]: consumer,
    [ENV.queueUrl]: resources.queueUrl,
    [ENV.dlqUrl]: resources.dlqUrl,
    POWERTOOLS_SERVICE_NAME: consumer,
    POWERTOOLS_METRICS_NAMESPACE: "courier",
    ...(resources.idempotencyTable ? { [ENV.idempotencyTable]: resources.idempotencyTable } : {}),
  };
  switch (consumer) {
    case "verification-email":
      return {
        ...common,
        [ENV.verificationSecretArn]: resources.verificationSecretArn,
        [ENV.mailFrom]: settings.mailFrom,
        [ENV.verifyUrlBase]: settings.verifyUrlBase,
      };
    case "verification-sms":
      return { ...common, [ENV.verificationSecretArn]: resources.verificationSecretArn };
    case "team-notify":
      return settings.teamWebhookSecretArn
        ? { ...common, [ENV.teamWebhookSecretArn]: settings.teamWebhookSecretArn }
        : { ...common, [ENV.teamWebhookUrl]: settings.teamWebhookUrl };
    case "thumbnails":
      return { ...common, [ENV.uploadsBucket]: resources.uploadsBucket };
  }
}
