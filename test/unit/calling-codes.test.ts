/**
 * The SMS cap's country calling code, read from a table instead of libphonenumber-js (118 KiB of the
 * verification-sms bundle). Failure modes covered: a number counted under the wrong country (or
 * under "unknown") where libphonenumber-js would have named its country, which would let a flood
 * spread over one country escape its per-country cap or lock out the wrong one; a code assigned in a
 * later libphonenumber-js missing from the table.
 */

import metadata from "libphonenumber-js/metadata.min.json";
import { parsePhoneNumberFromString } from "libphonenumber-js/min";
import { describe, expect, it } from "vitest";
import { assignedCallingCodes, callingCodeOf } from "../../src/app/signup/calling-codes.ts";
import { countryCallingCode } from "../../src/app/signup/sms-cap.ts";

const libraryCode = (phone: string) => parsePhoneNumberFromString(phone)?.countryCallingCode ?? "unknown";

/** A deterministic generator (mulberry32), so a failure names a number that fails again. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe("country calling codes from the table", () => {
  it("GIVEN libphonenumber-js's metadata WHEN its countries' and non-geographic codes are listed THEN the table holds exactly them", () => {
    const library = new Set([
      ...Object.keys(metadata.country_calling_codes),
      ...Object.keys((metadata as { nonGeographic?: object }).nonGeographic ?? {}),
    ]);
    expect([...assignedCallingCodes].sort()).toEqual([...library].sort());
  });

  it("GIVEN 50,000 generated E.164 numbers of every length WHEN their codes are read THEN each equals libphonenumber-js's", () => {
    const next = random(26);
    const mismatches: string[] = [];
    for (let i = 0; i < 50_000; i++) {
      const length = 2 + Math.floor(next() * 14);
      let phone = `+${1 + Math.floor(next() * 9)}`;
      for (let d = 1; d < length; d++) phone += Math.floor(next() * 10);
      if (callingCodeOf(phone) !== libraryCode(phone)) mismatches.push(phone);
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
  }, 60_000);

  it("GIVEN real-shaped numbers WHEN read by the cap THEN 1, 44, 234, 800, and unknown for an unassigned code or a national part too short", () => {
    const phones = ["+14155550123", "+447700900123", "+2348012345678", "+80012345678", "+999123", "+4412"];
    expect(phones.map(countryCallingCode)).toEqual(["1", "44", "234", "800", "unknown", "44"]);
    expect(phones.map(libraryCode)).toEqual(["1", "44", "234", "800", "unknown", "44"]);
    expect(callingCodeOf("+441")).toBe("unknown");
    expect(libraryCode("+441")).toBe("unknown");
  });
});
