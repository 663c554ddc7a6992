import { defineContract, plainText } from "@courier-queue/courier";
// zod/mini, as courier's runtime: these contracts are in every consumer's bundle (src/lib/zod.ts in
// the package says why); classic zod would work the same, at ~65 KiB and milliseconds more per cold start.
import * as z from "zod/mini";

export const passwordResetRequestedDataV1 = z.object({
  /** Also the message group on the FIFO topic: one account's requests are delivered in order. */
  accountId: plainText(1, 128),
  email: z.email().check(z.maxLength(254)),
  /** When the account service accepted the request; the reset token is bound to it. */
  requestedAt: z.iso.datetime({ offset: true }),
  ip: z.optional(plainText(1, 45)),
  userAgent: z.optional(plainText(1, 512)),
});
export type PasswordResetRequestedV1 = z.infer<typeof passwordResetRequestedDataV1>;

export const PasswordResetRequestedV1Contract = defineContract({
  type: "PasswordResetRequested",
  version: 1,
  data: passwordResetRequestedDataV1,
});
