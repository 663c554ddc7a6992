import { describe, expect, it } from "vitest";
import { ENV } from "../../src/app/deployment/example-env.ts";
import {
  DEFAULT_TEAM_WEBHOOK_TIMEOUT_MS,
  SignupConfigError,
  TEAM_WEBHOOK_TIMEOUT_ENV,
  teamNotifyConfig,
  teamNotifySettings,
  verificationEmailConfig,
  verificationSmsConfig,
} from "../../src/app/signup/config.ts";
import { webhookUrlSource } from "../../src/app/signup/team-webhook-url.ts";

const emailEnv = {
  [ENV.verificationSecretArn]: "arn:aws:secretsmanager:us-east-1:000000000000:secret:v",
  [ENV.mailFrom]: "no-reply@courier.example",
  [ENV.verifyUrlBase]: "https://app.courier.example/verify",
};

function without(env: Record<string, string>, name: string): Record<string, string> {
  const { [name]: _removed, ...rest } = env;
  return rest;
}

describe("sign-up consumer configuration", () => {
  it("GIVEN a complete environment WHEN verification-email's config is parsed THEN it holds the settings", () => {
    expect(verificationEmailConfig(emailEnv)).toEqual({
      verificationSecretArn: emailEnv[ENV.verificationSecretArn],
      mailFrom: "no-reply@courier.example",
      verifyUrlBase: "https://app.courier.example/verify",
    });
  });

  it.each([ENV.verificationSecretArn, ENV.mailFrom, ENV.verifyUrlBase])(
    "GIVEN %s is missing WHEN verification-email's config is parsed THEN the error names it",
    (name) => {
      // Failure mode: a misdeployed function fails per record with an unrelated error.
      expect(() => verificationEmailConfig(without(emailEnv, name))).toThrow(
        new RegExp(`verification-email: .*${name} is not set`),
      );
    },
  );

  it("GIVEN VERIFY_URL_BASE is not an http(s) URL WHEN parsed THEN the error names it", () => {
    expect(() =>
      verificationEmailConfig({ ...emailEnv, [ENV.verifyUrlBase]: "javascript:alert(1)" }),
    ).toThrow(/VERIFY_URL_BASE must be an http\(s\) URL/);
  });

  it("GIVEN MAIL_FROM is not an address WHEN parsed THEN the error names it", () => {
    expect(() => verificationEmailConfig({ ...emailEnv, [ENV.mailFrom]: "courier" })).toThrow(
      /MAIL_FROM must be/,
    );
  });

  it("GIVEN VERIFICATION_SECRET_ARN is missing WHEN verification-sms's config is parsed THEN a SignupConfigError names it", () => {
    const parse = () => verificationSmsConfig({});
    expect(parse).toThrow(SignupConfigError);
    expect(parse).toThrow(/verification-sms: .*VERIFICATION_SECRET_ARN is not set/);
  });

  it("GIVEN TEAM_WEBHOOK_URL is missing WHEN team-notify's config is parsed THEN the error names it", () => {
    expect(() => teamNotifyConfig({})).toThrow(/team-notify: .*TEAM_WEBHOOK_URL is not set/);
  });

  it("GIVEN no timeout setting WHEN team-notify's config is parsed THEN the timeout is the 5 s default", () => {
    const config = teamNotifyConfig({ [ENV.teamWebhookUrl]: "https://hooks.example/T/B/X" });
    expect(config.timeoutMs).toBe(DEFAULT_TEAM_WEBHOOK_TIMEOUT_MS);
  });

  it("GIVEN a timeout that is not a number WHEN team-notify's config is parsed THEN the error names the setting", () => {
    const env = { [ENV.teamWebhookUrl]: "https://hooks.example/T/B/X", [TEAM_WEBHOOK_TIMEOUT_ENV]: "soon" };
    expect(() => teamNotifyConfig(env)).toThrow(/TEAM_WEBHOOK_TIMEOUT_MS must be a number/);
  });
});

describe("team-notify webhook from Secrets Manager", () => {
  const arn = "arn:aws:secretsmanager:us-east-1:123456789012:secret:team-webhook-AbC123";
  const provider = (values: Array<string | Error>) => {
    let calls = 0;
    return {
      calls: () => calls,
      get: async () => {
        const value = values[Math.min(calls, values.length - 1)];
        calls += 1;
        if (value instanceof Error) throw value;
        return value;
      },
    };
  };

  it("GIVEN TEAM_WEBHOOK_SECRET_ARN WHEN settings are parsed THEN the URL is not required and the ARN is kept", () => {
    expect(teamNotifySettings({ [ENV.teamWebhookSecretArn]: arn })).toEqual({
      webhookSecretArn: arn,
      timeoutMs: DEFAULT_TEAM_WEBHOOK_TIMEOUT_MS,
    });
  });

  it("GIVEN neither setting WHEN settings are parsed THEN the error names TEAM_WEBHOOK_URL", () => {
    expect(() => teamNotifySettings({})).toThrow(/TEAM_WEBHOOK_URL is not set/);
  });

  it("GIVEN a secret holding the URL WHEN the URL is needed twice THEN it is read once and returned", async () => {
    const secrets = provider(["https://hooks.example/T/B/X"]);
    const url = webhookUrlSource({ webhookSecretArn: arn, timeoutMs: 100 }, () => secrets as never);
    expect(await url()).toBe("https://hooks.example/T/B/X");
    expect(await url()).toBe("https://hooks.example/T/B/X");
    expect(secrets.calls()).toBe(1);
  });

  it("GIVEN a secret that is not a URL WHEN read THEN a config error names the secret but never echoes its value", async () => {
    const secrets = provider(["not-a-url-but-secret-material"]);
    const url = webhookUrlSource({ webhookSecretArn: arn, timeoutMs: 100 }, () => secrets as never);
    const error = (await url().catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(SignupConfigError);
    expect(error.message).toContain(arn);
    expect(error.message).not.toContain("secret-material");
  });

  it("GIVEN a failed secret read WHEN the URL is needed again THEN it is read again (failure mode: one outage poisons the instance)", async () => {
    const secrets = provider([new Error("throttled"), "https://hooks.example/T/B/X"]);
    const url = webhookUrlSource({ webhookSecretArn: arn, timeoutMs: 100 }, () => secrets as never);
    await expect(url()).rejects.toThrow("throttled");
    expect(await url()).toBe("https://hooks.example/T/B/X");
  });
});
