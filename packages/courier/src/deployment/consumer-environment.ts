/**
 * The environment each consumer function receives, derived from its topology entry's needs. The
 * CDK stack passes CloudFormation tokens and the local runtime passes the deployed stack's real
 * values, through this one function, so the two cannot drift apart.
 */
import { PAYLOAD_BUCKET_ENV } from "../lib/payload-offloading/payload-store.ts";
import { RUNTIME_ENV } from "../lib/runtime-env.ts";
import { needsOf, secretArnEnv, usesUploads } from "./consumer-needs.ts";
import {
  DEPLOY_SETTINGS,
  type DeploySettings,
  type SettingSpec,
  settingSecretArn,
} from "../../../../src/app/deployment/deploy-settings.ts";
import { type ConsumerName, type ConsumerSpec, consumerSpec } from "../../../../src/topology.ts";

export type { DeploySettings };

/** Addresses of the stack's shared resources; a consumer receives those its needs name. */
export interface ConsumerResources {
  readonly queueUrl: string;
  readonly dlqUrl: string;
  /** Each secret of the topology by name: its ARN. */
  readonly secretArns: Readonly<Record<string, string>>;
  readonly uploadsBucket?: string;
  /** Given only to a consumer whose topic offloads large payloads: it reads them there. */
  readonly payloadBucket?: string;
  /** Absent where no table is deployed (LocalStack): the variable is then left out. */
  readonly idempotencyTable?: string;
  /** The security audit trail; absent where no table is deployed (LocalStack) and none stands in. */
  readonly auditTable?: string;
}

export const ENV = {
  ...RUNTIME_ENV,
  /** `secretArnEnv("verification")`, spelled out so the handlers' config schemas keep literal keys. */
  verificationSecretArn: "VERIFICATION_SECRET_ARN",
  mailFrom: DEPLOY_SETTINGS.mailFrom.env,
  verifyUrlBase: DEPLOY_SETTINGS.verifyUrlBase.env,
  teamWebhookUrl: DEPLOY_SETTINGS.teamWebhookUrl.env,
  teamWebhookSecretArn: DEPLOY_SETTINGS.teamWebhookUrl.secretAlternative.env,
  uploadsBucket: "UPLOADS_BUCKET",
  auditTable: "AUDIT_TABLE",
  /** The entry's `smsCap`, as JSON: what the SMS sender counts against (in the idempotency table). */
  smsCap: "SMS_CAP",
  payloadBucket: PAYLOAD_BUCKET_ENV,
} as const;

export class MissingConsumerResourceError extends Error {
  override readonly name = "MissingConsumerResourceError";
}

/** `consumer` is a name of courier's topology or the entry of any other. */
export function consumerEnvironment(
  consumer: ConsumerName | ConsumerSpec<string>,
  resources: ConsumerResources,
  settings: DeploySettings,
): Record<string, string> {
  const spec = typeof consumer === "string" ? consumerSpec(consumer) : consumer;
  const needs = needsOf(spec);
  const env: Record<string, string> = {
    [ENV.consumer]: spec.name,
    [ENV.queueUrl]: resources.queueUrl,
    [ENV.dlqUrl]: resources.dlqUrl,
    POWERTOOLS_SERVICE_NAME: spec.name,
    POWERTOOLS_METRICS_NAMESPACE: "courier",
  };
  if (needs.idempotencyTable && resources.idempotencyTable) {
    env[ENV.idempotencyTable] = resources.idempotencyTable;
  }
  if (spec.smsCap) env[ENV.smsCap] = JSON.stringify(spec.smsCap);
  for (const secret of needs.secrets) {
    const arn = resources.secretArns[secret];
    if (!arn)
      throw new MissingConsumerResourceError(
        `${spec.name} needs secret "${secret}", whose ARN was not given`,
      );
    env[secretArnEnv(secret)] = arn;
  }
  for (const name of needs.settings) {
    const setting: SettingSpec = DEPLOY_SETTINGS[name];
    const secretArn = settingSecretArn(name, settings);
    // A secret standing in for the value keeps the value (a bearer URL) out of the environment.
    if (secretArn && setting.secretAlternative) env[setting.secretAlternative.env] = secretArn;
    else env[setting.env] = settings[name];
  }
  if (needs.appendsAuditTrail && resources.auditTable) env[ENV.auditTable] = resources.auditTable;
  if (resources.payloadBucket) env[ENV.payloadBucket] = resources.payloadBucket;
  if (usesUploads(needs)) {
    if (!resources.uploadsBucket) {
      throw new MissingConsumerResourceError(
        `${spec.name} needs the uploads bucket, whose name was not given`,
      );
    }
    env[ENV.uploadsBucket] = resources.uploadsBucket;
  }
  return env;
}
