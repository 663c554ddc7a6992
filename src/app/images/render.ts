/**
 * The image pipeline: one original in, the thumbnail and medium WebP renditions out. Pure sharp,
 * no AWS, so tests call it on buffers and streams made in the test.
 */
import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import sharp, { type Metadata, type ResizeOptions, type Sharp, type SharpOptions } from "sharp";
import { byteCap } from "./byte-cap.ts";
import type { ImageLimits } from "./config.ts";
import { ImageRejectedError } from "./errors.ts";
import type { RenditionName } from "./keys.ts";

export interface RenditionSpec {
  readonly name: RenditionName;
  readonly width: number;
  readonly height: number;
  readonly fit: NonNullable<ResizeOptions["fit"]>;
  readonly quality: number;
  /**
   * libwebp's effort (0-6, sharp's default 4): how hard it searches for a smaller encoding at the
   * same quality. Measured on the benchmark's 12 MP photo (bench/thumbnails.bench.ts), effort 2
   * encodes the medium in about a third of the CPU time of 4 at the same quality setting, and its
   * output was no larger (the search at 4 mostly pays off on flat, synthetic images).
   */
  readonly effort: number;
}

/**
 * Both renditions are never enlarged: a source smaller than the box keeps its own size (a 1×1
 * image stays 1×1, a 300×100 one gets a 256×100 centre crop), because upscaling only adds bytes
 * and blur. Clients should lay thumbnails out in a 256×256 box rather than assume that size.
 */
export const RENDITIONS: readonly RenditionSpec[] = [
  { name: "thumb", width: 256, height: 256, fit: "cover", quality: 80, effort: 2 },
  { name: "medium", width: 1280, height: 1280, fit: "inside", quality: 82, effort: 2 },
];

/**
 * Formats we decode. SVG and PDF are excluded (an SVG can reference external files and costs an
 * unbounded rasterisation; neither is a photo upload), as are RAW, FITS, OpenSlide and
 * ImageMagick-loaded formats, which widen the attack surface for no product need. HEIF is accepted
 * only as AVIF (AV1): sharp's prebuilt libvips has no HEVC decoder for iPhone HEIC.
 */
const ACCEPTED_FORMATS = new Set(["jpeg", "png", "webp", "gif", "tiff", "avif"]);

export interface RenderedRendition {
  readonly name: RenditionName;
  readonly body: Buffer;
  readonly width: number;
  readonly height: number;
  readonly contentType: "image/webp";
}

export interface RenderResult {
  /** Format of the original as sharp detected it (never the uploader's claim). */
  readonly sourceFormat: string;
  /** Dimensions of the original after auto-orientation. */
  readonly sourceWidth: number;
  readonly sourceHeight: number;
  readonly renditions: readonly RenderedRendition[];
}

/**
 * Renders every rendition of one original. Throws `ImageRejectedError` for input that can never
 * render (not an image, corrupt, unsupported, too many pixels, too many bytes); any other error
 * (e.g. the source stream failing mid-way) propagates unchanged, so the caller retries it.
 */
export async function renderRenditions(input: Readable | Buffer, limits: ImageLimits): Promise<RenderResult> {
  const options: SharpOptions = {
    limitInputPixels: limits.maxInputPixels,
    failOn: limits.failOn,
    // The first frame only: a rendition is a still preview, and decoding every frame of an
    // animated GIF/WebP multiplies CPU and memory by the frame count (a bomb of its own).
    pages: 1,
  };
  let image: Sharp;
  if (Buffer.isBuffer(input)) {
    if (input.length > limits.maxInputBytes) {
      throw new ImageRejectedError(
        "too-large",
        `original is ${input.length} bytes, over the ${limits.maxInputBytes}-byte cap`,
      );
    }
    image = sharp(input, options);
  } else {
    image = sharp(options);
    // sharp gathers stream input in memory before decoding; the cap bounds what it can gather.
    await pipeline(input, byteCap(limits.maxInputBytes), image);
  }

  const metadata = await readMetadata(image, limits);
  const format = formatOf(metadata);
  if (!ACCEPTED_FORMATS.has(format)) {
    throw new ImageRejectedError(
      "unsupported-format",
      `${format} is not accepted; upload one of ${[...ACCEPTED_FORMATS].join(", ")}`,
    );
  }

  const swapsAxes = (metadata.orientation ?? 1) >= 5;
  const sourceWidth = swapsAxes ? metadata.height : metadata.width;
  const sourceHeight = swapsAxes ? metadata.width : metadata.height;
  const decoded = await decodeOnce(image, sourceWidth, sourceHeight, limits);
  const renditions = await Promise.all(RENDITIONS.map((spec) => renderOne(decoded, spec, limits)));
  return { sourceFormat: format, sourceWidth, sourceHeight, renditions };
}

interface DecodedImage {
  readonly pixels: Buffer;
  readonly raw: { readonly width: number; readonly height: number; readonly channels: 1 | 2 | 3 | 4 };
}

/**
 * The original decoded once, at the smallest scale every rendition can still be made from without
 * enlarging: for a 4000×3000 JPEG that is 1280×960 (the medium), which libjpeg decodes at 1/2 scale
 * (shrink-on-load) rather than at full size, and the thumbnail is made from those pixels. Two
 * renditions from one decode instead of one decode each.
 */
async function decodeOnce(
  image: Sharp,
  width: number,
  height: number,
  limits: ImageLimits,
): Promise<DecodedImage> {
  const scale = Math.min(1, Math.max(...RENDITIONS.map((spec) => scaleNeeded(spec, width, height))));
  // .rotate() without an angle applies the EXIF orientation; the output keeps no metadata
  // (sharp's default), so EXIF (GPS, camera serials) never leaks into a rendition.
  let pipeline = image.rotate();
  if (scale < 1) {
    // Rounded as sharp rounds an "inside" resize, so the largest rendition comes out exactly as a
    // resize of the original would; a "cover" rendition that rounding left a pixel short gets it back.
    let w = Math.round(width * scale);
    let h = Math.round(height * scale);
    for (const spec of RENDITIONS.filter((r) => r.fit === "cover")) {
      w = Math.max(w, Math.min(spec.width, width));
      h = Math.max(h, Math.min(spec.height, height));
    }
    pipeline = pipeline.resize(w, h, { fit: "fill" });
  }
  try {
    const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
    return {
      pixels: data,
      raw: { width: info.width, height: info.height, channels: info.channels },
    };
  } catch (error) {
    throw rejectionFor(error, limits);
  }
}

/** The scale of the original a rendition needs (1 or more: the original itself). */
function scaleNeeded(spec: RenditionSpec, width: number, height: number): number {
  const wide = spec.width / width;
  const tall = spec.height / height;
  // "cover" fills the box, so the tighter side decides; "inside" fits it, so the looser one does.
  return spec.fit === "cover" ? Math.max(wide, tall) : Math.min(wide, tall);
}

async function renderOne(
  decoded: DecodedImage,
  spec: RenditionSpec,
  limits: ImageLimits,
): Promise<RenderedRendition> {
  try {
    const { data, info } = await sharp(decoded.pixels, { raw: decoded.raw })
      .resize(spec.width, spec.height, { fit: spec.fit, withoutEnlargement: true })
      .webp({ quality: spec.quality, effort: spec.effort })
      .toBuffer({ resolveWithObject: true });
    return { name: spec.name, body: data, width: info.width, height: info.height, contentType: "image/webp" };
  } catch (error) {
    throw rejectionFor(error, limits);
  }
}

async function readMetadata(image: Sharp, limits: ImageLimits): Promise<Metadata> {
  try {
    return await image.metadata();
  } catch (error) {
    throw rejectionFor(error, limits);
  }
}

/** AVIF reports as "heif" with AV1 compression; name it so the accepted list reads plainly. */
function formatOf(metadata: Metadata): string {
  if (metadata.format === "heif") return metadata.compression === "av1" ? "avif" : "heic";
  return metadata.format;
}

/**
 * Maps a libvips failure to a rejection. libvips reports decode problems only as messages; every
 * failure while decoding the same bytes would recur, so all of them are permanent.
 */
export function rejectionFor(error: unknown, limits: ImageLimits): ImageRejectedError {
  if (error instanceof ImageRejectedError) return error;
  const message = error instanceof Error ? error.message : String(error);
  if (/unsupported image format/i.test(message)) {
    return new ImageRejectedError("not-an-image", "the bytes are not a recognised image format", {
      cause: error,
    });
  }
  if (/exceeds pixel limit/i.test(message)) {
    return new ImageRejectedError(
      "too-many-pixels",
      `the image declares more than ${limits.maxInputPixels} pixels (decompression bomb guard)`,
      {
        cause: error,
      },
    );
  }
  return new ImageRejectedError("corrupt", `the image could not be decoded (${message})`, { cause: error });
}
