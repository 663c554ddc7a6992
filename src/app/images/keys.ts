/**
 * Object keys in the uploads bucket. Deterministic from the imageId, so a redelivered message
 * rewrites the same renditions instead of adding copies.
 */
export const ORIGINALS_PREFIX = "originals/";
export const RENDITIONS_PREFIX = "renditions/";

export type RenditionName = "thumb" | "medium";

export function originalKey(imageId: string): string {
  return `${ORIGINALS_PREFIX}${imageId}`;
}

export function renditionKey(imageId: string, rendition: RenditionName): string {
  return `${RENDITIONS_PREFIX}${imageId}/${rendition}.webp`;
}

/**
 * Where the thumbnailer says it gave up on an upload (image-status.ts). Beside the renditions, so
 * the thumbnails function writes it under the one prefix it may already write to.
 */
export function failureMarkerKey(imageId: string): string {
  return `${RENDITIONS_PREFIX}${imageId}/failed.json`;
}
