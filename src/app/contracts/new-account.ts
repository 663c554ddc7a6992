import { defineContract, plainText } from "@courier-queue/courier";
// zod/mini, as courier's runtime: these contracts are in every consumer's bundle (src/lib/zod.ts in
// the package says why); classic zod would work the same, at ~65 KiB and milliseconds more per cold start.
import * as z from "zod/mini";

/** E.164: a plus, a non-zero country digit, at most 15 digits in all. */
export const e164PhoneSchema = z
  .string()
  .check(z.regex(/^\+[1-9]\d{1,14}$/, "phone must be in E.164 form, e.g. +14155550123"));

export const newAccountDataV1 = z.object({
  accountId: plainText(1, 128),
  email: z.email().check(z.maxLength(254)),
  displayName: plainText(1, 200, { trim: true }),
  phone: z.optional(e164PhoneSchema),
  /** BCP 47 language tag, e.g. en-US. */
  locale: z
    .string()
    .check(z.regex(/^[a-zA-Z]{2,3}(-[a-zA-Z0-9]{2,8})*$/, "locale must be a BCP 47 tag such as en-US")),
  createdAt: z.iso.datetime({ offset: true }),
  /**
   * When this message's verification codes were issued; absent means `createdAt`. A re-send moves
   * it, which derives a new code and so voids the old one. (Added compatibly: optional.)
   */
  codeIssuedAt: z.optional(z.iso.datetime({ offset: true })),
  /** Set on a code re-send: only that channel's consumer acts on the message. */
  resendChannel: z.optional(z.enum(["email", "sms"])),
});
export type NewAccountV1 = z.infer<typeof newAccountDataV1>;

export const NewAccountV1Contract = defineContract({
  type: "NewAccount",
  version: 1,
  data: newAccountDataV1,
  // verification-sms subscribes only to messages that want an SMS (hasPhone); team-notify only to
  // real sign-ups and verification-email to sign-ups and email re-sends (purpose).
  filterAttributes: (data) => ({
    hasPhone: data.phone && data.resendChannel !== "email" ? "true" : "false",
    purpose: data.resendChannel ? `resend-${data.resendChannel}` : "signup",
  }),
  filterAttributeNames: ["hasPhone", "purpose"],
});
