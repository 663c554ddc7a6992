/**
 * thumbnails: renders the thumbnail and medium WebP renditions of each uploaded image. Dependencies
 * are built once per cold start; the logic lives in src/images/thumbnails.ts.
 */
import { S3Client } from "@aws-sdk/client-s3";
import { defineConsumer, tracedClient } from "@courier-queue/courier";
import { thumbnailsConfigFromEnv } from "../../src/app/images/config.ts";
import { recordingFailure } from "../../src/app/images/image-status.ts";
import { makeThumbnails } from "../../src/app/images/thumbnails.ts";
import { courierTopology } from "../../src/topology.ts";

// Fails the cold start with a message naming any missing or malformed setting.
const config = thumbnailsConfigFromEnv();
// Its calls are the side effects: a span each under the record that caused them (OpenTelemetry).
const s3 = tracedClient("thumbnails", new S3Client({}));

export const handler = defineConsumer(courierTopology, {
  name: "thumbnails",
  // Decoding a large image takes most of the function's memory and both cores: one record at a
  // time keeps a batch of five originals from decoding side by side.
  processInParallel: false,
  handle: async (message, ctx) => {
    // An ImageRejectedError is a PermanentError: the runtime dead-letters it with its reason, and
    // the marker left beside the renditions lets the API answer `failed` with that reason.
    const lastTry = ctx.receiveCount >= courierTopology.consumers.thumbnails.maxReceiveCount;
    const outcome = await recordingFailure(
      { s3, bucket: config.uploadsBucket },
      message.data.imageId,
      lastTry,
      () => makeThumbnails({ s3, bucket: config.uploadsBucket, limits: config.limits }, message.data),
    );
    ctx.logger.info(outcome.status === "skipped" ? "renditions already current" : "renditions written", {
      imageId: message.data.imageId,
      sourceEtag: outcome.sourceEtag,
      renditions: outcome.renditions,
    });
  },
});
