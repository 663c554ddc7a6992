import { defineContract, plainText } from "@courier-queue/courier";
// zod/mini, as courier's runtime: these contracts are in every consumer's bundle (src/lib/zod.ts in
// the package says why); classic zod would work the same, at ~65 KiB and milliseconds more per cold start.
import * as z from "zod/mini";

export const imageUploadedDataV1 = z.object({
  imageId: z.string().check(z.regex(/^[A-Za-z0-9_-]{1,128}$/, "imageId must be 1-128 of A-Z a-z 0-9 _ -")),
  bucket: z.string().check(z.minLength(3), z.maxLength(63)),
  key: z.string().check(z.minLength(1), z.maxLength(1024)),
  contentType: z
    .string()
    .check(z.regex(/^[\w.+-]+\/[\w.+-]+$/, "contentType must be a MIME type such as image/jpeg")),
  byteSize: z.int().check(z.nonnegative()),
  uploadedBy: plainText(1, 128),
  uploadedAt: z.iso.datetime({ offset: true }),
});
export type ImageUploadedV1 = z.infer<typeof imageUploadedDataV1>;

export const ImageUploadedV1Contract = defineContract({
  type: "ImageUploaded",
  version: 1,
  data: imageUploadedDataV1,
  filterAttributes: (data) => ({ contentType: data.contentType }),
  filterAttributeNames: ["contentType"],
});
