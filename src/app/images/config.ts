import { ConfigError, parseEnv } from "@courier-queue/courier";
// zod/mini: configuration parsed at every cold start, in the consumer's bundle (courier's lib/zod.ts).
import * as z from "zod/mini";

/** Limits that keep one hostile upload from exhausting the function's memory. */
export interface ImageLimits {
  /** Largest original accepted, in bytes (checked on the message, on ContentLength and while streaming). */
  readonly maxInputBytes: number;
  /** Largest decoded frame accepted, width × height (sharp's `limitInputPixels`). */
  readonly maxInputPixels: number;
  /**
   * sharp's `failOn`: "warning" (the default, strictest) rejects any decoder warning, such as a
   * corrupt JPEG segment; "truncated" accepts files a decoder can recover, still rejecting truncation.
   */
  readonly failOn: "warning" | "error" | "truncated";
}

export interface ThumbnailsConfig {
  readonly uploadsBucket: string;
  readonly limits: ImageLimits;
}

export const DEFAULT_MAX_INPUT_BYTES = 50 * 1024 * 1024;
/** 50 megapixels: above any phone or DSLR photo in common use, far below a decompression bomb. */
export const DEFAULT_MAX_INPUT_PIXELS = 50_000_000;

const positiveInt = (name: string, fallback: number) =>
  z._default(
    z.coerce
      .number({ error: `${name} must be a number` })
      .check(z.int(`${name} must be a whole number`), z.positive(`${name} must be positive`)),
    fallback,
  );

const envSchema = z.object({
  UPLOADS_BUCKET: z
    .string({ error: "UPLOADS_BUCKET is required: the bucket holding originals and renditions" })
    .check(z.minLength(3, "UPLOADS_BUCKET must be a bucket name")),
  THUMBNAILS_MAX_INPUT_BYTES: positiveInt("THUMBNAILS_MAX_INPUT_BYTES", DEFAULT_MAX_INPUT_BYTES),
  THUMBNAILS_MAX_INPUT_PIXELS: positiveInt("THUMBNAILS_MAX_INPUT_PIXELS", DEFAULT_MAX_INPUT_PIXELS),
  THUMBNAILS_FAIL_ON: z._default(
    z.enum(["warning", "error", "truncated"], {
      error: "THUMBNAILS_FAIL_ON must be one of warning, error, truncated",
    }),
    "warning",
  ),
});

/** Thrown at cold start when the environment is incomplete; the message names each bad setting. */
export class ThumbnailsConfigError extends ConfigError {
  override readonly name = "ThumbnailsConfigError";
}

export function thumbnailsConfigFromEnv(env: NodeJS.ProcessEnv = process.env): ThumbnailsConfig {
  const e = parseEnv(envSchema, env, {
    context: "invalid thumbnails configuration",
    error: ThumbnailsConfigError,
  });
  return {
    uploadsBucket: e.UPLOADS_BUCKET,
    limits: {
      maxInputBytes: e.THUMBNAILS_MAX_INPUT_BYTES,
      maxInputPixels: e.THUMBNAILS_MAX_INPUT_PIXELS,
      failOn: e.THUMBNAILS_FAIL_ON,
    },
  };
}
