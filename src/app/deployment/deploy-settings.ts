/**
 * Per-deployment settings (CDK context in AWS, the local run's own values on a laptop) and the
 * catalog a consumer's needs name them from: the variable each becomes in a function's environment
 * and the shape its value must have, checked at synth time.
 */

export interface DeploySettings {
  /** SES-verified sender of the verification email. */
  readonly mailFrom: string;
  /** Base of the verification link; the code and account id are appended as query parameters. */
  readonly verifyUrlBase: string;
  /**
   * The team chat webhook (Slack-style) a consumer posts to. A Slack webhook URL is a bearer
   * secret: in AWS prefer `teamWebhookSecretArn`, which keeps it out of the template.
   */
  readonly teamWebhookUrl: string;
  /** A Secrets Manager secret whose value is the webhook URL; when set, it replaces `teamWebhookUrl`. */
  readonly teamWebhookSecretArn?: string;
}

/** What a setting's value must look like. */
export type SettingKind = "mailbox" | "http-url";

export interface SettingSpec {
  /** The environment variable a consumer that needs the setting receives it in. */
  readonly env: string;
  readonly kind: SettingKind;
  /**
   * A setting holding a Secrets Manager ARN that, when given, stands in for this one: the function
   * gets the ARN (in `env`) and read rights on that secret instead of the value itself.
   */
  readonly secretAlternative?: { readonly key: keyof DeploySettings; readonly env: string };
}

/** The settings a consumer may need, by name. */
export const DEPLOY_SETTINGS = {
  mailFrom: { env: "MAIL_FROM", kind: "mailbox" },
  verifyUrlBase: { env: "VERIFY_URL_BASE", kind: "http-url" },
  teamWebhookUrl: {
    env: "TEAM_WEBHOOK_URL",
    kind: "http-url",
    secretAlternative: { key: "teamWebhookSecretArn", env: "TEAM_WEBHOOK_SECRET_ARN" },
  },
} as const satisfies Record<string, SettingSpec> & Partial<Record<keyof DeploySettings, SettingSpec>>;

export type SettingName = keyof typeof DEPLOY_SETTINGS;

export const settingNames = Object.keys(DEPLOY_SETTINGS) as SettingName[];

export function isSettingName(name: string): name is SettingName {
  return Object.hasOwn(DEPLOY_SETTINGS, name);
}

/** The secret ARN standing in for a setting, when the deployment gave one. */
export function settingSecretArn(name: SettingName, settings: DeploySettings): string | undefined {
  const spec: SettingSpec = DEPLOY_SETTINGS[name];
  if (!spec.secretAlternative) return undefined;
  const value = settings[spec.secretAlternative.key];
  return value === undefined || value === "" ? undefined : value;
}

/** "Courier <no-reply@example.com>" -> "no-reply@example.com": SES compares the bare address. */
export function senderAddress(mailFrom: string): string {
  return /<([^<>]+)>\s*$/.exec(mailFrom)?.[1]?.trim() ?? mailFrom.trim();
}

/** A complete ARN (with its random suffix): IAM grants on a partial ARN would not match the secret. */
const COMPLETE_SECRET_ARN = /^arn:aws[\w-]*:secretsmanager:[\w-]+:\d{12}:secret:.+-[A-Za-z0-9]{6}$/;

/** What is wrong with the settings, one line each; empty when they are usable. */
export function settingsProblems(settings: DeploySettings): string[] {
  const problems: string[] = [];
  for (const name of settingNames) {
    const spec: SettingSpec = DEPLOY_SETTINGS[name];
    if (spec.secretAlternative) {
      const key = spec.secretAlternative.key;
      const arn = settings[key];
      if (arn !== undefined) {
        if (!COMPLETE_SECRET_ARN.test(arn)) {
          problems.push(`${key} must be a complete Secrets Manager secret ARN, got "${arn}"`);
        }
        continue;
      }
    }
    const value = settings[name];
    if (spec.kind === "mailbox" && !/^[^\s@<>]+@[^\s@<>]+\.[^\s@<>]+$/.test(senderAddress(value))) {
      problems.push(`${name} must be an email address or "Name <address>", got "${value}"`);
    }
    if (spec.kind === "http-url" && (!URL.canParse(value) || !/^https?:$/.test(new URL(value).protocol))) {
      problems.push(`${name} must be an http(s) URL, got "${value}"`);
    }
  }
  return problems;
}
