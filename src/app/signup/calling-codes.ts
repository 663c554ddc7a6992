/**
 * The country calling code of an E.164 number, from the table of assigned codes. The SMS cap only
 * needs this one fact, for which libphonenumber-js put 118 KiB of metadata into the verification-sms
 * bundle (its largest part, measured by bench/cold-start.bench.ts). Calling codes are prefix-free
 * (ITU-T E.164), so the first 1-3 digits that name an assigned code are the code.
 *
 * The table is libphonenumber-js 1.13's (its countries' codes and the non-geographic ones: 800,
 * 808, 870, ...); test/unit/calling-codes.test.ts holds this function equal to libphonenumber-js's
 * `parsePhoneNumberFromString(...).countryCallingCode` on 50,000 generated E.164 numbers, so a
 * library update that assigns a code fails that test rather than drifting silently.
 */

// Sorted by length, then value; one string keeps the bundle small and the module cheap to load.
const ASSIGNED = new Set(
  (
    "1 7 20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 60 61 62 63 64 65 66 81 82 84 86 90 91 92 93 94 95 98 " +
    "211 212 213 216 218 220 221 222 223 224 225 226 227 228 229 230 231 232 233 234 235 236 237 238 239 240 241 242 243 244 245 246 247 248 249 " +
    "250 251 252 253 254 255 256 257 258 260 261 262 263 264 265 266 267 268 269 290 291 297 298 299 350 351 352 353 354 355 356 357 358 359 " +
    "370 371 372 373 374 375 376 377 378 380 381 382 383 385 386 387 389 420 421 423 500 501 502 503 504 505 506 507 508 509 590 591 592 593 " +
    "594 595 596 597 598 599 670 672 673 674 675 676 677 678 679 680 681 682 683 685 686 687 688 689 690 691 692 800 808 850 852 853 855 856 " +
    "870 878 880 881 882 883 886 888 960 961 962 963 964 965 966 967 968 970 971 972 973 974 975 976 977 979 992 993 994 995 996 998"
  ).split(" "),
);

/** E.164: a plus, then up to 15 digits, the first not zero (the contract's own pattern). */
const E164 = /^\+[1-9]\d{1,14}$/;
/** The shortest national significant number libphonenumber-js parses (its MIN_LENGTH_FOR_NSN). */
const MIN_NATIONAL_DIGITS = 2;

/** The country calling code of an E.164 number ("1", "44"), or "unknown" when none is recognised. */
export function callingCodeOf(phone: string): string {
  if (!E164.test(phone)) return "unknown";
  for (let digits = 1; digits <= 3; digits++) {
    const code = phone.slice(1, 1 + digits);
    if (ASSIGNED.has(code)) {
      return phone.length - 1 - digits >= MIN_NATIONAL_DIGITS ? code : "unknown";
    }
  }
  return "unknown";
}

/** Every assigned code, for tests that hold the table to its source. */
export const assignedCallingCodes: ReadonlySet<string> = ASSIGNED;
