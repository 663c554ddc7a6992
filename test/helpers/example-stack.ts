/**
 * What the tests read from a deployed copy of the example's stack: the construct's manifest (a
 * consumer or topic by name, present or the test fails saying which) and the example's own outputs.
 */
import {
  type DeployedConsumer,
  type DeployedTopic,
  type DeployedTopology,
  deployedConsumer,
  deployedTopic,
} from "../../packages/courier/src/deployment/deployed-topology.ts";
import { AUDIT_TABLE_OUTPUT, UPLOADS_BUCKET_OUTPUT } from "../../src/app/deployment/example-outputs.ts";

export function consumerOf(topology: DeployedTopology, name: string): DeployedConsumer {
  return deployedConsumer(topology, name);
}

export function topicOf(topology: DeployedTopology, name: string): DeployedTopic {
  return deployedTopic(topology, name);
}

function output(topology: DeployedTopology, key: string): string {
  const value = topology.outputs[key];
  if (!value) throw new Error(`stack "${topology.stackName}" has no output "${key}"`);
  return value;
}

export const uploadsBucketOf = (topology: DeployedTopology) => output(topology, UPLOADS_BUCKET_OUTPUT);
export const auditTableOf = (topology: DeployedTopology) => output(topology, AUDIT_TABLE_OUTPUT);

export function verificationSecretArnOf(topology: DeployedTopology): string {
  const arn = topology.secretArns.verification;
  if (!arn) throw new Error(`stack "${topology.stackName}" has no verification secret`);
  return arn;
}
