/**
 * Personal data in what the console shows: masked until revealed.
 * Failure modes: an email or phone number shown in clear by default; a personal field in an
 * unusual format left in clear; ordinary content (ids, timestamps) mangled; reveal not revealing.
 */
import { describe, expect, it } from "vitest";
import { displayBody, maskPersonalText } from "../../packages/courier/src/console/personal-data.ts";

const body = JSON.stringify({
  eventId: "3270f09d-0507-49d6-94b3-5c7b4d4f5fe6",
  occurredAt: "2026-11-28T08:21:42.126Z",
  data: { email: "ada@example.com", phone: "+14155550123", contactPhone: "call me", displayName: "Ada" },
});

describe("personal data", () => {
  it("GIVEN a body with an email and a phone WHEN displayed masked THEN neither is in clear", () => {
    const shown = displayBody(body, false);
    expect(shown).not.toContain("ada@example.com");
    expect(shown).not.toContain("4155550123");
    expect(shown).toContain("a•••@example.com");
    expect(shown).toContain("+•••••••••23");
  });

  it("GIVEN a personal key holding free text WHEN masked THEN the value is hidden whole", () => {
    expect(displayBody(body, false)).not.toContain("call me");
  });

  it("GIVEN ids and timestamps WHEN masked THEN they are unchanged", () => {
    const shown = displayBody(body, false);
    expect(shown).toContain("3270f09d-0507-49d6-94b3-5c7b4d4f5fe6");
    expect(shown).toContain("2026-11-28T08:21:42.126Z");
  });

  it("GIVEN reveal WHEN displayed THEN the body is the original, pretty-printed", () => {
    expect(JSON.parse(displayBody(body, true))).toEqual(JSON.parse(body));
    expect(displayBody(body, true)).toContain("\n  ");
  });

  it("GIVEN free text with a North American number WHEN masked THEN the number is hidden", () => {
    expect(maskPersonalText("call (415) 555-0123 today")).toBe("call ••••••••23 today");
  });

  it("GIVEN a body that is not JSON WHEN masked THEN patterns are masked in the text", () => {
    expect(displayBody("mail bob@example.org now", false)).toBe("mail b•••@example.org now");
  });
});
