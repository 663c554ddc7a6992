import { defineContract, plainText } from "@courier-queue/courier";
import * as z from "zod";

export const passwordResetRequestedDataV1 = z.object({
  /** Also the message group on the FIFO topic: one account's requests are delivered in order. */
  accountId: plainText(1, 128),
  email: z.email().max(254),
  /** When the account service accepted the request; the reset token is bound to it. */
  requestedAt: z.iso.datetime({ offset: true }),
  ip: plainText(1, 45).optional(),
  userAgent: plainText(1, 512).optional(),
});
export type PasswordResetRequestedV1 = z.infer<typeof passwordResetRequestedDataV1>;

export const PasswordResetRequestedV1Contract = defineContract({
  type: "PasswordResetRequested",
  version: 1,
  data: passwordResetRequestedDataV1,
});
