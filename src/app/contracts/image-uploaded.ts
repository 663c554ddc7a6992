import { defineContract, plainText } from "@courier-queue/courier";
import * as z from "zod";

export const imageUploadedDataV1 = z.object({
  imageId: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/, "imageId must be 1-128 of A-Z a-z 0-9 _ -"),
  bucket: z.string().min(3).max(63),
  key: z.string().min(1).max(1024),
  contentType: z.string().regex(/^[\w.+-]+\/[\w.+-]+$/, "contentType must be a MIME type such as image/jpeg"),
  byteSize: z.number().int().nonnegative(),
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
