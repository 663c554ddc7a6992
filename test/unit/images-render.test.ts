import { Readable } from "node:stream";
import sharp from "sharp";
import { describe, expect, it } from "vitest";
import type { ImageLimits } from "../../src/app/images/config.ts";
import { ImageRejectedError } from "../../src/app/images/errors.ts";
import { type RenderResult, renderRenditions } from "../../src/app/images/render.ts";
import {
  animatedGif,
  jpegWithOrientation6,
  pixelAt,
  pngDeclaring,
  pngWithAlpha,
  randomBytes,
  SVG,
  solid,
  truncatedJpeg,
} from "./images-fixtures.ts";

const limits: ImageLimits = { maxInputBytes: 5 * 1024 * 1024, maxInputPixels: 50_000_000, failOn: "warning" };

function rendition(result: RenderResult, name: "thumb" | "medium") {
  const found = result.renditions.find((r) => r.name === name);
  if (!found) throw new Error(`no ${name} rendition`);
  return found;
}

async function rejectionOf(promise: Promise<unknown>): Promise<ImageRejectedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ImageRejectedError);
  return error as ImageRejectedError;
}

describe("renderRenditions", () => {
  it("GIVEN a 4000×3000 JPEG WHEN rendered THEN the thumb is a 256×256 cover crop and medium fits 1280 on the long side", async () => {
    const original = await solid(4000, 3000).jpeg().toBuffer();

    const result = await renderRenditions(original, limits);

    expect(rendition(result, "thumb")).toMatchObject({ width: 256, height: 256, contentType: "image/webp" });
    expect(rendition(result, "medium")).toMatchObject({ width: 1280, height: 960 });
  });

  it("GIVEN renditions WHEN decoded THEN they are WebP with the dimensions reported", async () => {
    const result = await renderRenditions(await solid(900, 600).png().toBuffer(), limits);

    const decoded = await sharp(rendition(result, "medium").body).metadata();

    expect({ format: decoded.format, width: decoded.width, height: decoded.height }).toEqual({
      format: "webp",
      width: 900,
      height: 600,
    });
  });

  it("GIVEN a JPEG with EXIF orientation 6 WHEN rendered THEN the rendition is turned upright (width and height swap)", async () => {
    const result = await renderRenditions(await jpegWithOrientation6(), limits);

    const medium = rendition(result, "medium");
    expect({ width: medium.width, height: medium.height }).toEqual({ width: 200, height: 400 });
    expect({ width: result.sourceWidth, height: result.sourceHeight }).toEqual({ width: 200, height: 400 });
  });

  it("GIVEN a JPEG with EXIF orientation 6 WHEN rendered THEN the pixels are rotated, not only the dimensions (red half on top)", async () => {
    const medium = rendition(await renderRenditions(await jpegWithOrientation6(), limits), "medium");

    const [topR, , topB] = await pixelAt(medium.body, 100, 50);
    const [bottomR, , bottomB] = await pixelAt(medium.body, 100, 350);

    expect(topR).toBeGreaterThan(200);
    expect(topB).toBeLessThan(60);
    expect(bottomB).toBeGreaterThan(200);
    expect(bottomR).toBeLessThan(60);
  });

  it("GIVEN a JPEG with EXIF metadata WHEN rendered THEN the rendition carries no EXIF (metadata stripped)", async () => {
    const medium = rendition(await renderRenditions(await jpegWithOrientation6(), limits), "medium");

    const decoded = await sharp(medium.body).metadata();

    expect(decoded.exif).toBeUndefined();
    expect(decoded.orientation).toBeUndefined();
  });

  it("GIVEN a PNG with alpha WHEN rendered THEN transparency survives into the WebP", async () => {
    const medium = rendition(await renderRenditions(await pngWithAlpha(), limits), "medium");

    const decoded = await sharp(medium.body).metadata();
    const [, , , transparentAlpha] = await pixelAt(medium.body, 50, 200);
    const [, green, , opaqueAlpha] = await pixelAt(medium.body, 550, 200);

    expect(decoded.hasAlpha).toBe(true);
    expect(transparentAlpha).toBe(0);
    expect(opaqueAlpha).toBe(255);
    expect(green).toBeGreaterThan(150);
  });

  it("GIVEN an animated GIF WHEN rendered THEN the renditions are a still of its first frame", async () => {
    const result = await renderRenditions(await animatedGif(), limits);

    const medium = rendition(result, "medium");
    const decoded = await sharp(medium.body).metadata();
    const [r, , b] = await pixelAt(medium.body, 150, 100);

    expect({ width: medium.width, height: medium.height, pages: decoded.pages ?? 1 }).toEqual({
      width: 300,
      height: 200,
      pages: 1,
    });
    expect(r).toBeGreaterThan(200);
    expect(b).toBeLessThan(60);
    expect(result.sourceFormat).toBe("gif");
  });

  it("GIVEN a 1×1 image WHEN rendered THEN neither rendition is enlarged", async () => {
    const result = await renderRenditions(await solid(1, 1).png().toBuffer(), limits);

    expect(result.renditions.map((r) => [r.name, r.width, r.height])).toEqual([
      ["thumb", 1, 1],
      ["medium", 1, 1],
    ]);
  });

  it("GIVEN a wide image smaller than the thumb box on one side WHEN rendered THEN the thumb is cropped, not upscaled", async () => {
    const thumb = rendition(await renderRenditions(await solid(300, 100).png().toBuffer(), limits), "thumb");

    expect({ width: thumb.width, height: thumb.height }).toEqual({ width: 256, height: 100 });
  });

  it("GIVEN a 4000×200 panorama WHEN rendered from one decode THEN the thumb is a 256×200 crop of full-height pixels and the medium 1280×64", async () => {
    const result = await renderRenditions(await solid(4000, 200).png().toBuffer(), limits);

    expect(result.renditions.map((r) => [r.name, r.width, r.height])).toEqual([
      ["thumb", 256, 200],
      ["medium", 1280, 64],
    ]);
  });

  it("GIVEN a 3000×2000 original WHEN rendered from one decode THEN the medium is 1280×853, as a direct resize rounds it", async () => {
    const medium = rendition(
      await renderRenditions(await solid(3000, 2000).png().toBuffer(), limits),
      "medium",
    );

    expect({ width: medium.width, height: medium.height }).toEqual({ width: 1280, height: 853 });
  });

  it("GIVEN the original as a stream WHEN rendered THEN it renders the same as from a buffer", async () => {
    const original = await solid(2000, 1000).jpeg().toBuffer();
    const chunks = [original.subarray(0, 1000), original.subarray(1000)];

    const result = await renderRenditions(Readable.from(chunks), limits);

    expect(rendition(result, "medium")).toMatchObject({ width: 1280, height: 640 });
  });
});

describe("renderRenditions on bad input", () => {
  it("GIVEN a PNG header declaring 100000×100000 WHEN rendered THEN it is rejected as a decompression bomb", async () => {
    const error = await rejectionOf(renderRenditions(await pngDeclaring(100_000, 100_000), limits));

    expect(error.reason).toBe("too-many-pixels");
    expect(error.message).toContain("50000000");
  });

  it("GIVEN an image just over a configured pixel cap WHEN rendered THEN the cap applies, not sharp's default", async () => {
    const original = await solid(101, 100).png().toBuffer();

    const error = await rejectionOf(renderRenditions(original, { ...limits, maxInputPixels: 10_000 }));

    expect(error.reason).toBe("too-many-pixels");
  });

  it("GIVEN random bytes WHEN rendered THEN it is rejected as not an image", async () => {
    const error = await rejectionOf(renderRenditions(randomBytes(4096), limits));

    expect(error.reason).toBe("not-an-image");
  });

  it("GIVEN a truncated JPEG WHEN rendered THEN it is rejected as corrupt", async () => {
    const error = await rejectionOf(renderRenditions(await truncatedJpeg(), limits));

    expect(error.reason).toBe("corrupt");
    expect(error.message).toMatch(/premature end/i);
  });

  it("GIVEN an SVG WHEN rendered THEN it is rejected as an unsupported format, never rasterised", async () => {
    const error = await rejectionOf(renderRenditions(SVG, limits));

    expect(error.reason).toBe("unsupported-format");
    expect(error.message).toContain("svg");
  });

  it("GIVEN a buffer over the byte cap WHEN rendered THEN it is rejected as too large before decoding", async () => {
    const original = await solid(64, 64).png().toBuffer();

    const error = await rejectionOf(
      renderRenditions(original, { ...limits, maxInputBytes: original.length - 1 }),
    );

    expect(error.reason).toBe("too-large");
  });

  it("GIVEN a stream that runs past the byte cap WHEN rendered THEN streaming stops with too-large", async () => {
    let chunksPulled = 0;
    const endless = new Readable({
      read() {
        chunksPulled++;
        this.push(Buffer.alloc(64 * 1024, 0xab));
      },
    });

    const error = await rejectionOf(renderRenditions(endless, { ...limits, maxInputBytes: 1024 * 1024 }));

    expect(error.reason).toBe("too-large");
    expect(endless.destroyed).toBe(true);
    expect(chunksPulled).toBeLessThan(40);
  });

  it("GIVEN a stream that fails mid-way (network) WHEN rendered THEN the error is not a rejection, so it is retried", async () => {
    const failing = new Readable({
      read() {
        this.destroy(new Error("socket hang up"));
      },
    });

    const error = await renderRenditions(failing, limits).catch((e: unknown) => e);

    expect(error).not.toBeInstanceOf(ImageRejectedError);
    expect((error as Error).message).toBe("socket hang up");
  });
});
