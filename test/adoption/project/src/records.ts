/**
 * The handlers' side effect, kept observable: one JSON line per handled order in
 * `$ACME_RECORDS_DIR/<consumer>.jsonl`. A file `refunds-accepted` in the same folder is the "fix"
 * that lets invoicing take negative totals.
 */
import { existsSync } from "node:fs";
import { appendFile, mkdir } from "node:fs/promises";
import { join } from "node:path";
import { parseEnv } from "@courier-queue/courier";
import { z } from "zod";

const settingsSchema = z.object({ ACME_RECORDS_DIR: z.string().min(1) });

export interface RecordedOrder {
  readonly consumer: string;
  readonly eventId: string;
  readonly orderId: string;
  readonly totalCents: number;
  readonly receiveCount: number;
}

export interface OrderRecords {
  append(record: RecordedOrder): Promise<void>;
  refundsAccepted(): boolean;
}

export function orderRecordsFromEnv(env: NodeJS.ProcessEnv): OrderRecords {
  const { ACME_RECORDS_DIR: dir } = parseEnv(settingsSchema, env, { context: "acme-orders" });
  return {
    append: async (record) => {
      await mkdir(dir, { recursive: true });
      await appendFile(join(dir, `${record.consumer}.jsonl`), `${JSON.stringify(record)}\n`);
    },
    refundsAccepted: () => existsSync(join(dir, "refunds-accepted")),
  };
}
