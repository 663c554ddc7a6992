/**
 * The consumer's side of offloading: turn a pointer into the body it stands for, reading only
 * from the locations the topology grants, never more than the cap. Every refusal is a
 * PermanentError with its reason (the runtime dead-letters the pointer as it came); a throttle or
 * an S3 outage is thrown as is, so the record is retried.
 */
import type { GetObjectCommandOutput, S3Client } from "@aws-sdk/client-s3";
import { loadS3Module } from "../aws-sdk-on-demand.ts";
import {
  PayloadLocationRefusedError,
  PayloadMissingError,
  PayloadSizeMismatchError,
  PayloadTooLargeError,
} from "./errors.ts";
import { decodePointer, type PayloadPointer } from "./pointer.ts";

/** A bucket and key prefix a consumer may read payloads from. */
export interface PayloadLocation {
  readonly bucket: string;
  /** Ends in "/"; "" allows the whole bucket. */
  readonly prefix: string;
}

export interface PayloadResolverOptions {
  readonly s3: S3Client;
  readonly locations: readonly PayloadLocation[];
  /** The largest payload read; a larger one is refused before or while reading. */
  readonly maxBytes: number;
}

/** Resolves a pointer body whose message declared `declaredBytes`; returns the payload as text. */
export type PayloadResolver = (pointerBody: string, declaredBytes: number) => Promise<string>;

/** 32 MiB: well above a Lambda's useful message, well below its memory. */
export const DEFAULT_PAYLOAD_MAX_BYTES = 32 * 1024 * 1024;

export function createPayloadResolver(options: PayloadResolverOptions): PayloadResolver {
  const { s3, locations, maxBytes } = options;
  return async (pointerBody, declaredBytes) => {
    const pointer = decodePointer(pointerBody);
    checkLocation(pointer, locations);
    if (declaredBytes > maxBytes) {
      throw new PayloadTooLargeError(
        `payload declares ${declaredBytes} bytes, over this consumer's cap of ${maxBytes}; not read`,
      );
    }
    // Loaded at the first pointer, not with the handler module: most consumers never see one, and
    // the S3 client is ~20 ms of a cold start (bench/cold-start.bench.ts).
    const { GetObjectCommand, NoSuchKey } = await loadS3Module();
    let response: GetObjectCommandOutput;
    try {
      response = await s3.send(new GetObjectCommand({ Bucket: pointer.bucket, Key: pointer.key }));
    } catch (error) {
      if (error instanceof NoSuchKey || (error as { name?: string }).name === "NoSuchKey") {
        throw new PayloadMissingError(
          `payload s3://${pointer.bucket}/${pointer.key} does not exist (expired, deleted or never written)`,
        );
      }
      throw error;
    }
    const body = response.Body as (AsyncIterable<Uint8Array> & { destroy?: () => void }) | undefined;
    const length = response.ContentLength;
    if (length !== undefined && length !== declaredBytes) {
      body?.destroy?.();
      if (length > maxBytes) {
        throw new PayloadTooLargeError(
          `payload object is ${length} bytes, over this consumer's cap of ${maxBytes}; not read`,
        );
      }
      throw new PayloadSizeMismatchError(
        `payload object is ${length} bytes but the message declares ${declaredBytes}; not read`,
      );
    }
    if (!body) throw new PayloadMissingError(`payload s3://${pointer.bucket}/${pointer.key} has no body`);
    return readCapped(body, declaredBytes, maxBytes);
  };
}

/** A key inside an allowed prefix, with no "." or ".." segment and no empty segment. */
function checkLocation(pointer: PayloadPointer, locations: readonly PayloadLocation[]): void {
  const inBucket = locations.filter((l) => l.bucket === pointer.bucket);
  if (inBucket.length === 0) {
    throw new PayloadLocationRefusedError(
      `pointer names bucket "${pointer.bucket}", which is not a payload bucket of this consumer; not read`,
    );
  }
  const segments = pointer.key.split("/");
  const tidy = segments.every((s, i) => s !== "." && s !== ".." && (s !== "" || i === segments.length - 1));
  if (!tidy || !inBucket.some((l) => pointer.key.startsWith(l.prefix))) {
    const prefixes = inBucket.map((l) => `"${l.prefix}"`).join(", ");
    throw new PayloadLocationRefusedError(
      `pointer key "${pointer.key.slice(0, 200)}" is outside the payload prefix (${prefixes}); not read`,
    );
  }
}

/** Reads at most `cap` bytes (the declared size, itself within the consumer's cap), then stops. */
async function readCapped(
  body: AsyncIterable<Uint8Array> & { destroy?: () => void },
  declaredBytes: number,
  maxBytes: number,
): Promise<string> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.byteLength;
    if (total > declaredBytes) {
      body.destroy?.();
      if (total > maxBytes)
        throw new PayloadTooLargeError(`payload object exceeds this consumer's cap of ${maxBytes} bytes`);
      throw new PayloadSizeMismatchError(
        `payload object is larger than the ${declaredBytes} bytes the message declares; read stopped`,
      );
    }
    chunks.push(chunk);
  }
  if (total !== declaredBytes) {
    throw new PayloadSizeMismatchError(
      `payload object is ${total} bytes but the message declares ${declaredBytes}`,
    );
  }
  return Buffer.concat(chunks).toString("utf8");
}
