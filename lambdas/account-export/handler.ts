/**
 * account-export: writes an account's data export file from the manifest its request carries.
 * A manifest over the topic's inline limit arrives by reference; defineConsumer resolves it from
 * the payload bucket (COURIER_PAYLOAD_BUCKET, under account-exports/) before this code sees it.
 */
import { S3Client } from "@aws-sdk/client-s3";
import { defineConsumer } from "@courier-queue/courier";
import { accountExportConfig } from "../../src/app/exports/config.ts";
import { writeExportFile } from "../../src/app/exports/export-file.ts";
import { courierTopology } from "../../src/topology.ts";

const config = accountExportConfig();
const s3 = new S3Client({});

export const handler = defineConsumer(courierTopology, {
  name: "account-export",
  handle: async (message, ctx) => {
    const written = await writeExportFile({ s3, bucket: config.uploadsBucket }, message.data);
    ctx.logger.info("account export written", {
      exportId: message.data.exportId,
      key: written.key,
      bytes: written.bytes,
      items: written.summary.items,
    });
  },
});
