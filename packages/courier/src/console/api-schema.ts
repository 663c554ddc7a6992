/** The server's validation of what the page sends, held to the shared types in `api.ts`. */
import { z } from "zod";
import type { ActionRequest, ReplayRequest, Selection } from "./api.ts";

export const selectionSchema = z.union([
  z.strictObject({ cause: z.string().min(1).max(2_000) }),
  z.strictObject({ messageIds: z.array(z.string().min(1).max(200)).min(1).max(1_000) }),
]) satisfies z.ZodType<Selection>;

export const replayRequestSchema = z.strictObject({
  consumer: z.string().min(1).max(200),
  from: z.string().min(1).max(64),
  to: z.string().min(1).max(64).optional(),
  dryRun: z.boolean(),
  reprocess: z.boolean(),
  confirmCount: z.number().int().nonnegative().optional(),
}) satisfies z.ZodType<ReplayRequest>;

export const actionRequestSchema = z.discriminatedUnion("action", [
  z.strictObject({
    action: z.literal("redrive"),
    consumer: z.string().min(1),
    selection: selectionSchema,
    dryRun: z.boolean(),
  }),
  z.strictObject({
    action: z.literal("delete"),
    consumer: z.string().min(1),
    selection: selectionSchema,
    confirmCount: z.number().int().positive(),
  }),
]) satisfies z.ZodType<ActionRequest>;
