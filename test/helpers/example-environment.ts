/**
 * A consumer function's environment as the example's stack gives it: the construct's variables
 * (the package's `consumerEnvironment`) plus what the example's needs add (deploy settings, the
 * uploads bucket, the audit table, the SMS cap), with real values instead of tokens. What the
 * handler tests load the example's handler modules under.
 */
import { consumerEnvironment as constructEnvironment } from "../../packages/courier/src/deployment/consumer-environment.ts";
import {
  DEPLOY_SETTINGS,
  type DeploySettings,
  settingSecretArn,
} from "../../src/app/deployment/deploy-settings.ts";
import { ENV } from "../../src/app/deployment/example-env.ts";
import { type ConsumerName, courierTopology, exampleNeeds } from "../../src/topology.ts";

export interface ExampleResources {
  readonly queueUrl: string;
  readonly dlqUrl: string;
  readonly secretArns: Readonly<Record<string, string>>;
  readonly idempotencyTable?: string;
  readonly uploadsBucket?: string;
  readonly auditTable?: string;
}

export function exampleConsumerEnvironment(
  consumer: ConsumerName,
  resources: ExampleResources,
  settings: DeploySettings,
): Record<string, string> {
  const env = constructEnvironment(courierTopology.consumers[consumer], resources);
  const needs = exampleNeeds[consumer];
  for (const name of needs.settings ?? []) {
    const spec: { env: string; secretAlternative?: { env: string } } = DEPLOY_SETTINGS[name];
    const secretArn = settingSecretArn(name, settings);
    if (secretArn && spec.secretAlternative) env[spec.secretAlternative.env] = secretArn;
    else env[spec.env] = settings[name];
  }
  if ((needs.uploads?.read?.length || needs.uploads?.write?.length) && resources.uploadsBucket) {
    env[ENV.uploadsBucket] = resources.uploadsBucket;
  }
  if (needs.appendsAuditTrail && resources.auditTable) env[ENV.auditTable] = resources.auditTable;
  if (needs.smsCap) env[ENV.smsCap] = JSON.stringify(needs.smsCap);
  return env;
}
