/**
 * What is wrong with a topology, one line per problem naming the entry, before anything is
 * synthesized or run: names that become queue names and logical ids, references between entries,
 * Lambda's and SQS's limits on the settings, and SNS's rules for a topic's message size.
 */

import type { TopicSpec } from "../lib/contracts/topic-spec.ts";
import {
  maxMessageBytesProblem,
  SNS_MAX_PAYLOAD_BYTES,
  SNS_RAISED_TOPIC_MAX_SUBSCRIPTIONS,
  topicMaxMessageBytes,
} from "../lib/publisher/size.ts";
import { tenantFieldProblem } from "../lib/publisher/tenant.ts";
import type { TopologySpec } from "./topology.ts";

/** Consumer, topic and secret names become queue names and logical ids: lowercase words and dashes. */
const NAME = /^[a-z][a-z0-9]*(-[a-z0-9]+)*$/;
const PACKAGE_NAME = /^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/;
/** SQS's longest retention; a DLQ keeps this long, which must exceed its source's retention. */
export const DLQ_RETENTION_DAYS = 14;
/** An S3 bucket name (general purpose): 3 to 63 lowercase letters, digits, dots and dashes. */
const BUCKET_NAME = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
/** A key prefix: "" (the whole bucket) or path segments each ending in "/", no wildcard. */
const KEY_PREFIX = /^(|([^*?/]+\/)+)$/;

/** Whether SNS treats the topic as raised (subscription count and kinds limited). */
export function isRaisedTopic(spec: { readonly maxMessageBytes?: number | undefined }): boolean {
  return topicMaxMessageBytes(spec) > SNS_MAX_PAYLOAD_BYTES;
}

/** One line per topic whose size setting SNS would refuse; empty when all are fine. */
export function topicSizeProblems(topology: Pick<TopologySpec, "topics" | "consumers">): string[] {
  const problems: string[] = [];
  const consumers = Object.values(topology.consumers);
  for (const [name, spec] of Object.entries(topology.topics)) {
    if (spec.maxMessageBytes !== undefined) {
      const problem = maxMessageBytesProblem(spec.maxMessageBytes);
      if (problem) problems.push(`topic "${name}": ${problem}`);
    }
    if (!isRaisedTopic(spec)) continue;
    // Every courier consumer subscribes an SQS queue, one subscription each; SNS refuses other
    // protocols and a 101st subscription on a raised topic, so say so at synth time, not at deploy.
    const subscriptions = consumers.filter((c) => c.topic === name).length;
    if (subscriptions > SNS_RAISED_TOPIC_MAX_SUBSCRIPTIONS) {
      problems.push(
        `topic "${name}": maxMessageBytes ${spec.maxMessageBytes} is above 262144, so SNS allows at most ${SNS_RAISED_TOPIC_MAX_SUBSCRIPTIONS} subscriptions (all SQS, Lambda or Firehose); it has ${subscriptions}`,
      );
    }
  }
  return problems;
}

/** The longest an archive keeps a message: a year. */
export const ARCHIVE_MAX_RETENTION_DAYS = 365;
/** How long an archive keeps a message unless the topic says otherwise. */
export const ARCHIVE_DEFAULT_RETENTION_DAYS = 30;
const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** One line per problem with a topic's `archive` setting. */
export function archiveProblems(name: string, topic: TopologySpec["topics"][string] | undefined): string[] {
  const archive = topic?.archive;
  if (archive === undefined || archive === false) return [];
  if (typeof archive !== "object" || archive === null) {
    return [`topic "${name}": archive must be { retentionDays?, subject? } or false`];
  }
  const problems: string[] = [];
  const days = archive.retentionDays;
  if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > ARCHIVE_MAX_RETENTION_DAYS)) {
    problems.push(
      `topic "${name}": archive.retentionDays must be a whole number from 1 to ${ARCHIVE_MAX_RETENTION_DAYS}, got ${days}`,
    );
  }
  if (archive.subject !== undefined && !FIELD_NAME.test(archive.subject)) {
    problems.push(`topic "${name}": archive.subject "${archive.subject}" is not a data field name`);
  }
  return problems;
}

export function topologyProblems(topology: TopologySpec): string[] {
  const problems: string[] = [];
  const topicNames = Object.keys(topology.topics);
  const secretNames = Object.keys(topology.secrets);
  const known = (names: string[]) => (names.length > 0 ? names.join(", ") : "none");

  if (topicNames.length === 0) problems.push("the topology declares no topic");
  for (const name of topicNames) {
    if (!NAME.test(name)) problems.push(`topic "${name}": a name is lowercase words joined by "-"`);
    const topic = topology.topics[name];
    if (topic && !topic.accepts.includes(topic.current)) {
      problems.push(`topic "${name}": accepts must include the current contract`);
    }
    for (const location of topic?.payloadLocations ?? []) {
      if (location.bucketName !== undefined && !BUCKET_NAME.test(location.bucketName)) {
        problems.push(
          `topic "${name}": payload location bucket "${location.bucketName}" is not an S3 bucket name`,
        );
      }
      if (location.prefix !== undefined && !KEY_PREFIX.test(location.prefix)) {
        problems.push(
          `topic "${name}": payload location prefix "${location.prefix}" must be "" (the whole bucket) or end in "/", without wildcards`,
        );
      }
    }
  }
  problems.push(...topicSizeProblems(topology));
  for (const [name, topic] of Object.entries(topology.topics)) problems.push(...tenantProblems(name, topic));
  for (const [name, topic] of Object.entries(topology.topics)) problems.push(...archiveProblems(name, topic));
  for (const name of secretNames) {
    if (!NAME.test(name)) problems.push(`secret "${name}": a name is lowercase words joined by "-"`);
  }
  const entries = Object.entries(topology.consumers);
  if (entries.length === 0) problems.push("the topology declares no consumer");
  for (const [key, spec] of entries) {
    const at = `consumer "${key}"`;
    if (!NAME.test(key)) problems.push(`${at}: a name is lowercase words joined by "-"`);
    if (spec.name !== key) problems.push(`${at}: its name field says "${spec.name}"`);
    const topic = Object.hasOwn(topology.topics, spec.topic) ? topology.topics[spec.topic] : undefined;
    if (!topic) {
      problems.push(
        `${at} subscribes to topic "${spec.topic}", which the topology does not declare (topics: ${known(topicNames)})`,
      );
    }
    if (typeof spec.handlerEntry !== "string" || spec.handlerEntry.length === 0) {
      problems.push(`${at}: handlerEntry names no module`);
    }
    problems.push(...settingProblems(at, spec, topic?.ordering !== undefined));
    const needs = spec.needs ?? {};
    for (const secret of needs.secrets ?? []) {
      if (!Object.hasOwn(topology.secrets, secret)) {
        problems.push(
          `${at} needs secret "${secret}", which the topology does not declare (secrets: ${known(secretNames)})`,
        );
      }
    }
    const secrets = needs.secrets ?? [];
    const duplicate = secrets.find((item, i) => secrets.indexOf(item) !== i);
    if (duplicate) problems.push(`${at} lists secret "${duplicate}" twice`);
    for (const module of needs.nodeModules ?? []) {
      if (!PACKAGE_NAME.test(module)) {
        problems.push(`${at} needs node module "${module}", which is not an npm package name`);
      }
    }
  }
  return problems;
}

/**
 * A tenant must name a string field of every accepted contract. On a FIFO topic the message group
 * is the ordering's field: a tenant naming another field would, if honoured, regroup the topic and
 * change what is ordered with what, so only the same field is accepted (it changes nothing).
 */
export function tenantProblems(name: string, topic: TopicSpec): string[] {
  const tenant = topic.tenant;
  if (!tenant) return [];
  const at = `topic "${name}"`;
  if (typeof tenant.from !== "string" || tenant.from === "") return [`${at}: tenant.from names no field`];
  if (topic.ordering && topic.ordering.groupBy !== tenant.from) {
    return [
      `${at}: tenant "${tenant.from}" differs from ordering.groupBy "${topic.ordering.groupBy}": on a FIFO topic the message group is the ordering's field, and a tenant on another field would change which messages are ordered together (name the same field, or drop the tenant)`,
    ];
  }
  const problems: string[] = [];
  for (const contract of topic.accepts) {
    const problem = tenantFieldProblem(contract, tenant.from);
    if (problem) problems.push(`${at}: tenant ${problem}`);
  }
  return problems;
}

/** Lambda's and SQS's limits on one consumer's settings. */
function settingProblems(at: string, spec: TopologySpec["consumers"][string], fifo: boolean): string[] {
  const problems: string[] = [];
  const integer = (field: string, value: number, min: number, max: number) => {
    if (!Number.isInteger(value) || value < min || value > max) {
      problems.push(`${at}: ${field} ${value} is not a whole number from ${min} to ${max}`);
    }
  };
  integer("maxReceiveCount", spec.maxReceiveCount, 1, 1000);
  integer("batchSize", spec.batchSize, 1, fifo ? 10 : 10_000);
  integer("maxBatchingWindowSeconds", spec.maxBatchingWindowSeconds, 0, fifo ? 0 : 300);
  integer("maxConcurrency", spec.maxConcurrency, 2, 1000);
  integer("timeoutSeconds", spec.timeoutSeconds, 1, 900);
  integer("memoryMb", spec.memoryMb, 128, 10_240);
  integer("visibilityTimeoutSeconds", spec.visibilityTimeoutSeconds, 0, 43_200);
  integer("retentionDays", spec.retentionDays, 1, DLQ_RETENTION_DAYS - 1);
  integer("oldestMessageAlarmSeconds", spec.oldestMessageAlarmSeconds, 60, 1_209_600);
  // AWS guidance: at least 6 × the function timeout, so a batch retried by Lambda is not received
  // again while a slow invocation still holds it.
  if (spec.visibilityTimeoutSeconds < 6 * spec.timeoutSeconds) {
    problems.push(
      `${at}: visibilityTimeoutSeconds ${spec.visibilityTimeoutSeconds} is under 6 × timeoutSeconds (${6 * spec.timeoutSeconds})`,
    );
  }
  // Lambda refuses a batch over 10 without a batching window of at least 1 s.
  if (!fifo && spec.batchSize > 10 && spec.maxBatchingWindowSeconds < 1) {
    problems.push(`${at}: batchSize over 10 needs maxBatchingWindowSeconds of at least 1`);
  }
  if (spec.backoff.baseSeconds < 0 || spec.backoff.maxSeconds < spec.backoff.baseSeconds) {
    problems.push(`${at}: backoff needs 0 <= baseSeconds <= maxSeconds`);
  }
  if (spec.onPermanentFailure === "hold-group" && !fifo) {
    problems.push(`${at}: onPermanentFailure "hold-group" applies only to a FIFO topic's consumer`);
  }
  return problems;
}
