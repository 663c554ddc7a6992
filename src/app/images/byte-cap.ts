import { Transform, type TransformCallback } from "node:stream";
import { ImageRejectedError } from "./errors.ts";

/**
 * A pass-through that fails as soon as more than `maxBytes` have flowed, so a body that lies about
 * its length (or has none) cannot fill memory. Written by hand: it is a few lines, and no stream
 * library in the dependency set offers a byte limit that fails with our own error.
 */
export function byteCap(maxBytes: number): Transform {
  let seen = 0;
  return new Transform({
    transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
      seen += chunk.length;
      if (seen > maxBytes) {
        callback(
          new ImageRejectedError(
            "too-large",
            `original exceeds the ${maxBytes}-byte cap (read ${seen} bytes)`,
          ),
        );
        return;
      }
      callback(null, chunk);
    },
  });
}
