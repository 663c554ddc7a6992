/**
 * A Slack-style webhook URL is a bearer secret. Given as a Secrets Manager ARN, it must stay out of
 * the template: team-notify gets only the ARN and may read only that secret.
 */
import { Template } from "aws-cdk-lib/assertions";
import { beforeAll, describe, expect, it } from "vitest";
import { CourierStack } from "../../cdk/stacks/courier-stack.ts";
import { ENV } from "../../src/app/deployment/example-env.ts";
import { appWithoutBundling, type CfnResource, logicalId, TEST_SETTINGS } from "./fixtures.ts";

const SECRET_ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:courier/team-webhook-AbC123";
const WEBHOOK_URL = "https://hooks.slack.com/services/T0SECRET/B0SECRET/XXXXSECRET";

let json: string;
let resources: Record<string, CfnResource>;
let teamNotifyId: string;

beforeAll(() => {
  const stack = new CourierStack(appWithoutBundling(), "courier-webhook-secret", {
    settings: { ...TEST_SETTINGS, teamWebhookUrl: WEBHOOK_URL, teamWebhookSecretArn: SECRET_ARN },
  });
  const template = Template.fromStack(stack).toJSON() as { Resources: Record<string, CfnResource> };
  json = JSON.stringify(template);
  resources = template.Resources;
  teamNotifyId = logicalId(stack.courier.consumerFunction("team-notify").function);
});

function teamNotify(): CfnResource {
  const resource = resources[teamNotifyId];
  if (!resource) throw new Error(`no resource ${teamNotifyId}`);
  return resource;
}

describe("team webhook URL kept in Secrets Manager", () => {
  it("GIVEN teamWebhookSecretArn WHEN synthesized THEN the webhook URL appears nowhere in the template (failure mode: a bearer secret in CloudFormation)", () => {
    expect(json).not.toContain("hooks.slack.com");
    expect(json).not.toContain("XXXXSECRET");
  });

  it("GIVEN teamWebhookSecretArn WHEN synthesized THEN team-notify's environment names the secret, not the URL", () => {
    const variables = (teamNotify().Properties as { Environment: { Variables: Record<string, unknown> } })
      .Environment.Variables;
    expect(variables[ENV.teamWebhookSecretArn]).toBe(SECRET_ARN);
    expect(variables).not.toHaveProperty(ENV.teamWebhookUrl);
  });

  it("GIVEN teamWebhookSecretArn WHEN synthesized THEN only team-notify's role may read that secret", () => {
    const readers = Object.entries(resources).filter(
      ([, r]) => r.Type === "AWS::IAM::Policy" && JSON.stringify(r.Properties).includes(SECRET_ARN),
    );
    expect(readers).toHaveLength(1);
    const policy = readers[0]?.[1].Properties as {
      Roles: unknown[];
      PolicyDocument: { Statement: unknown[] };
    };
    const statement = policy.PolicyDocument.Statement.find((s) => JSON.stringify(s).includes(SECRET_ARN));
    expect(JSON.stringify(statement)).toContain("secretsmanager:GetSecretValue");
    const role = (teamNotify().Properties as { Role: { "Fn::GetAtt": [string, string] } }).Role;
    expect(policy.Roles).toContainEqual({ Ref: role["Fn::GetAtt"][0] });
  });
});
