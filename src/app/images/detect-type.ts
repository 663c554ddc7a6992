/**
 * The media type an original is stored with: what sharp finds in the bytes (it reads the header
 * only), never the client's claim. A client's `image/svg+xml` on any bytes was stored as such, and
 * an SVG is a document a browser runs script in; an SVG is stored as opaque bytes here too.
 */
import sharp from "sharp";

const BY_FORMAT: Readonly<Record<string, string>> = {
  jpeg: "image/jpeg",
  png: "image/png",
  webp: "image/webp",
  gif: "image/gif",
  avif: "image/avif",
  heif: "image/heif",
  tiff: "image/tiff",
};

/** What the stored object is served as when sharp does not recognise a raster format. */
export const OPAQUE_TYPE = "application/octet-stream";

export async function detectImageType(body: Uint8Array): Promise<string> {
  try {
    const { format } = await sharp(body, { failOn: "none" }).metadata();
    return (format && BY_FORMAT[format]) ?? OPAQUE_TYPE;
  } catch {
    // Not an image sharp can read: the thumbnailer dead-letters it with its reason.
    return OPAQUE_TYPE;
  }
}
