/** Sign-up events and keys shared by the sign-up consumers' unit tests. */

import type { NewAccountV1 } from "../../src/app/contracts/index.ts";
import type { SignupEvent } from "../../src/app/signup/signup-event.ts";
import { type VerificationKey, verificationKey } from "../../src/app/signup/verification-code.ts";

/** Fixed keys keep the tests deterministic; production keys come from the CSPRNG. */
export const TEST_KEY: VerificationKey = verificationKey(`${"k".repeat(16)}0123456789abcdef`);
export const OTHER_KEY: VerificationKey = verificationKey(`${"o".repeat(16)}0123456789abcdef`);

export const CREATED_AT = "2026-03-01T12:00:00.000Z";
/** An hour after the sign-up: well inside the code's 24 h. */
export const SOON_AFTER = new Date("2026-03-01T13:00:00.000Z");

export function signup(
  overrides: Partial<NewAccountV1> = {},
  eventId = "8f0c5a36-3c1e-4b6e-9f3e-2d8f0a1b2c3d",
): SignupEvent {
  return {
    eventId,
    data: {
      accountId: "acct-0001",
      email: "ada.lovelace@example.com",
      displayName: "Ada Lovelace",
      phone: "+14155550123",
      locale: "en-GB",
      createdAt: CREATED_AT,
      ...overrides,
    },
  };
}

export function signupWithoutPhone(eventId?: string): SignupEvent {
  const { phone: _phone, ...data } = signup().data;
  return { eventId: eventId ?? signup().eventId, data };
}
