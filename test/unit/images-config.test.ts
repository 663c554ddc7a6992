import { describe, expect, it } from "vitest";
import {
  DEFAULT_MAX_INPUT_BYTES,
  DEFAULT_MAX_INPUT_PIXELS,
  ThumbnailsConfigError,
  thumbnailsConfigFromEnv,
} from "../../src/app/images/config.ts";

describe("thumbnailsConfigFromEnv", () => {
  it("GIVEN only UPLOADS_BUCKET WHEN parsed THEN the caps take their defaults", () => {
    const config = thumbnailsConfigFromEnv({ UPLOADS_BUCKET: "uploads" });

    expect(config).toEqual({
      uploadsBucket: "uploads",
      limits: {
        maxInputBytes: DEFAULT_MAX_INPUT_BYTES,
        maxInputPixels: DEFAULT_MAX_INPUT_PIXELS,
        failOn: "warning",
      },
    });
  });

  it("GIVEN caps in the environment WHEN parsed THEN they are used as numbers", () => {
    const config = thumbnailsConfigFromEnv({
      UPLOADS_BUCKET: "uploads",
      THUMBNAILS_MAX_INPUT_BYTES: "1048576",
      THUMBNAILS_MAX_INPUT_PIXELS: "24000000",
      THUMBNAILS_FAIL_ON: "truncated",
    });

    expect(config.limits).toEqual({
      maxInputBytes: 1_048_576,
      maxInputPixels: 24_000_000,
      failOn: "truncated",
    });
  });

  it("GIVEN no UPLOADS_BUCKET WHEN parsed THEN the error names the setting", () => {
    expect(() => thumbnailsConfigFromEnv({})).toThrow(ThumbnailsConfigError);
    expect(() => thumbnailsConfigFromEnv({})).toThrow(/UPLOADS_BUCKET/);
  });

  it("GIVEN a cap that is not a positive whole number WHEN parsed THEN the error names that cap", () => {
    expect(() =>
      thumbnailsConfigFromEnv({ UPLOADS_BUCKET: "uploads", THUMBNAILS_MAX_INPUT_PIXELS: "lots" }),
    ).toThrow(/THUMBNAILS_MAX_INPUT_PIXELS/);
    expect(() =>
      thumbnailsConfigFromEnv({ UPLOADS_BUCKET: "uploads", THUMBNAILS_MAX_INPUT_BYTES: "-5" }),
    ).toThrow(/THUMBNAILS_MAX_INPUT_BYTES must be positive/);
  });

  it("GIVEN an unknown failOn level WHEN parsed THEN the error lists the accepted values", () => {
    expect(() => thumbnailsConfigFromEnv({ UPLOADS_BUCKET: "uploads", THUMBNAILS_FAIL_ON: "never" })).toThrow(
      /THUMBNAILS_FAIL_ON must be one of warning, error, truncated/,
    );
  });
});
