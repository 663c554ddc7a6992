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

describe("masking 1 MiB", () => {
  // Each was the worst case of the old patterns: an address's local part was tried from every
  // character of a long run (64,000 characters took 4 s, 1 MiB about half an hour). The bound is
  // generous on purpose (a slow CI machine); linear masking takes milliseconds.
  const MiB = 1024 * 1024;
  const inputs = {
    "one long word": "a".repeat(MiB),
    "dots and words": "a.".repeat(MiB / 2),
    "an @ then a long domain": `a@${"b".repeat(MiB)}`,
    "plus signs and digits": "+1 ".repeat(MiB / 3),
    "digits after a trunk 0": `0${"1 ".repeat(MiB / 2)}`,
    "quotes before an @": `"${"a".repeat(MiB)}"@example.com`,
    "addresses back to back": "ada@example.com ".repeat(MiB / 16),
  };
  for (const [name, text] of Object.entries(inputs)) {
    it(`GIVEN 1 MiB of ${name} WHEN masked as text and as a JSON value THEN it finishes within 2 s`, () => {
      const started = performance.now();
      maskPersonalText(text);
      displayBody(JSON.stringify({ data: { note: text } }), false);
      expect(performance.now() - started).toBeLessThan(2_000);
    });
  }

  it("GIVEN national phone formats WHEN masked THEN each is hidden but its last two digits", () => {
    expect(maskPersonalText("ring 020 7946 0958")).toBe("ring •••••••••58");
    expect(maskPersonalText("portable 06 12 34 56 78.")).toBe("portable ••••••••78.");
    expect(maskPersonalText("Tel. 0151/1234567")).toBe("Tel. •••••••••67");
  });

  it("GIVEN an address with a quoted local part WHEN masked THEN the quoted part is hidden", () => {
    expect(maskPersonalText('to "jane doe"@example.com now')).toBe('to "•••"@example.com now');
  });

  it("GIVEN an internationalised address WHEN masked THEN it is hidden", () => {
    expect(maskPersonalText("write to jörg@bücher.example")).toBe("write to j•••@bücher.example");
  });
});
