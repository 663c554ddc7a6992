/**
 * The archiver: one per archived topic, fed by the topic's archive queue (an SNS subscription with
 * raw delivery off, so each record carries SNS's MessageId, publish time and attributes). Each batch
 * becomes one gzipped JSON Lines object per publish hour in the archive bucket (lib/archive). The
 * CDK construct deploys it as a Lambda function; locally it runs as the worker `archive:<topic>`.
 *
 * Settings (set by the construct, read here): COURIER_ARCHIVE_BUCKET, COURIER_ARCHIVE_TOPIC and,
 * when the topic names one, COURIER_ARCHIVE_SUBJECT; on a topic that offloads large payloads,
 * COURIER_PAYLOAD_LOCATIONS, where it reads a pointer's payload for the envelope's fields and subject.
 */
import { S3Client } from "@aws-sdk/client-s3";
import type { SQSBatchResponse, SQSEvent } from "aws-lambda";
import { archiveRecords } from "../lib/archive/archive-store.ts";
import { archiverConfigFromEnv } from "../lib/archive/archiver-config.ts";
import {
  createPayloadResolver,
  DEFAULT_PAYLOAD_MAX_BYTES,
} from "../lib/payload-offloading/payload-resolver.ts";
import { payloadLocationsFromEnv } from "../topology/payload-locations.ts";

// Fails the cold start with a message naming the missing setting.
const config = archiverConfigFromEnv(process.env);
const s3 = new S3Client({});
const locations = payloadLocationsFromEnv(process.env);
const payloads =
  locations.length > 0
    ? createPayloadResolver({ s3, locations, maxBytes: DEFAULT_PAYLOAD_MAX_BYTES })
    : undefined;

export const handler = async (event: SQSEvent): Promise<SQSBatchResponse> =>
  archiveRecords(event.Records, { s3, ...config, payloads });
