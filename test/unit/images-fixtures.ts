/**
 * Images made in the test run with sharp, so no binary fixtures live in the repository and each
 * file has exactly the property a test is about.
 */
import { crc32 } from "node:zlib";
import sharp, { type Sharp } from "sharp";

const RED = { r: 255, g: 0, b: 0 };
const BLUE = { r: 0, g: 0, b: 255 };

/** A solid-colour image in the given format. */
export function solid(width: number, height: number, colour = RED): Sharp {
  return sharp({ create: { width, height, channels: 3, background: colour } });
}

/**
 * A landscape JPEG stored 400×200 (red left half, blue right half) with EXIF orientation 6: a
 * viewer turns it 90° clockwise, so it displays 200×400 with red on top.
 */
export async function jpegWithOrientation6(): Promise<Buffer> {
  const blueHalf = await solid(200, 200, BLUE).png().toBuffer();
  return solid(400, 200, RED)
    .composite([{ input: blueHalf, left: 200, top: 0 }])
    .jpeg({ quality: 95 })
    .withMetadata({ orientation: 6 })
    .toBuffer();
}

/** A 600×400 PNG whose left half is fully transparent and right half opaque green. */
export async function pngWithAlpha(): Promise<Buffer> {
  const opaque = await sharp({
    create: { width: 300, height: 400, channels: 4, background: { r: 0, g: 200, b: 0, alpha: 1 } },
  })
    .png()
    .toBuffer();
  return sharp({
    create: { width: 600, height: 400, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } },
  })
    .composite([{ input: opaque, left: 300, top: 0 }])
    .png()
    .toBuffer();
}

/** A 2-frame animated GIF, 300×200 per frame: the first frame red, the second blue. */
export async function animatedGif(): Promise<Buffer> {
  const frames = await Promise.all([
    solid(300, 200, RED).png().toBuffer(),
    solid(300, 200, BLUE).png().toBuffer(),
  ]);
  return sharp(frames, { join: { animated: true } })
    .gif({ delay: [100, 100], loop: 0 })
    .toBuffer();
}

/**
 * A valid small PNG whose IHDR claims `width × height` (CRC recomputed, so the header is well
 * formed): the shape of a decompression bomb, a few hundred bytes declaring billions of pixels.
 */
export async function pngDeclaring(width: number, height: number): Promise<Buffer> {
  const png = Buffer.from(await solid(8, 8).png().toBuffer());
  // Signature (8) + IHDR length (4) + "IHDR" (4), then width and height; CRC covers type + data.
  png.writeUInt32BE(width, 16);
  png.writeUInt32BE(height, 20);
  png.writeUInt32BE(crc32(png.subarray(12, 29)), 29);
  return png;
}

/** A JPEG of noise cut off half way, as an interrupted upload leaves it. */
export async function truncatedJpeg(): Promise<Buffer> {
  const full = await sharp({
    create: {
      width: 400,
      height: 300,
      channels: 3,
      background: "#808080",
      noise: { type: "gaussian", mean: 128, sigma: 40 },
    },
  })
    .jpeg()
    .toBuffer();
  return full.subarray(0, Math.floor(full.length / 2));
}

/** Deterministic pseudo-random bytes (no image signature can match by chance at this seed). */
export function randomBytes(length: number, seed = 42): Buffer {
  const out = Buffer.alloc(length);
  let state = seed;
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) & 0x7fffffff;
    out[i] = state >>> 16;
  }
  return out;
}

export const SVG = Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64"><rect width="64" height="64" fill="red"/></svg>',
);

/** The colour of one pixel of an encoded image, as [r, g, b, alpha]. */
export async function pixelAt(image: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(image).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const offset = (y * info.width + x) * info.channels;
  return [...data.subarray(offset, offset + 4)];
}
