/**
 * Masks personal data in what the console shows until the operator reveals it: email addresses
 * and phone numbers wherever they appear in text, and every string under a key that names one
 * (email, phone, mobile) in a JSON body, whatever its format. The mask keeps enough to tell two
 * values apart at a glance (an address's first letter and domain, a number's last two digits).
 */
// Linear time: the lookbehind lets a local part start only where a run of its characters starts,
// so a long run without an @ is scanned once, not once per character (which froze the console for
// seconds on one 64,000-character string). Letters and digits of any script: IDN addresses too.
const EMAIL =
  /(?<![\p{L}\p{N}_.+-])([\p{L}\p{N}_.+-])[\p{L}\p{N}_.+-]*@([\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+)/gu;
/** Linear time (each alternative is bounded). International (+ and 7 to 15 digits, with spaces, dots, dashes or brackets) or North American 3-3-4. */
const PHONE = /\+\d(?:[\s().-]*\d){6,14}|(?<!\w)(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}\b/g;
/** A quoted local part ("jane doe"@example.com), bounded as RFC 5321 bounds it (64). */
const QUOTED_EMAIL = /"[^"\n\\]{1,64}"@([\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+)/gu;
/**
 * National formats: a trunk 0 and 8 to 13 more digits, single spaces, dots, dashes or slashes
 * between them (020 7946 0958, 06 12 34 56 78, 0151/1234567); bounded, so linear.
 */
const NATIONAL_PHONE = /(?<![\w+.])0\d(?:[\s./-]?\d){7,12}(?!\w)/g;
const PERSONAL_KEY = /e-?mail|phone|mobile|msisdn/i;
const DOT = "•";

export function maskEmail(address: string): string {
  return address
    .replace(QUOTED_EMAIL, (_, domain: string) => `"${DOT.repeat(3)}"@${domain}`)
    .replace(EMAIL, (_, first: string, domain: string) => `${first}${DOT.repeat(3)}@${domain}`);
}

export function maskPhone(text: string): string {
  const mask = (phone: string) => {
    const digits = phone.replace(/\D/g, "");
    return `${phone.startsWith("+") ? "+" : ""}${DOT.repeat(Math.max(0, digits.length - 2))}${digits.slice(-2)}`;
  };
  return text.replace(PHONE, mask).replace(NATIONAL_PHONE, mask);
}

/** Masks emails and phone numbers anywhere in free text. */
export function maskPersonalText(text: string): string {
  return maskPhone(maskEmail(text));
}

/** Masks a JSON value: personal keys whole, every other string by pattern. */
export function maskPersonalJson(value: unknown, key = ""): unknown {
  if (typeof value === "string") {
    if (PERSONAL_KEY.test(key)) {
      const masked = maskPersonalText(value);
      return masked !== value ? masked : `${DOT.repeat(Math.min(8, value.length))}`;
    }
    return maskPersonalText(value);
  }
  if (Array.isArray(value)) return value.map((v) => maskPersonalJson(v, key));
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, maskPersonalJson(v, k)]));
  }
  return value;
}

/**
 * A body for display: pretty JSON when it parses (an SNS notification's inner message too),
 * masked unless `reveal`.
 */
export function displayBody(body: string, reveal: boolean): string {
  const parsed = parseJson(body);
  if (parsed === undefined) return reveal ? body : maskPersonalText(body);
  const unwrapped = unwrapNotification(parsed);
  return JSON.stringify(reveal ? unwrapped : maskPersonalJson(unwrapped), null, 2);
}

function unwrapNotification(value: unknown): unknown {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  if (record.Type !== "Notification" || typeof record.Message !== "string") return value;
  const inner = parseJson(record.Message);
  return inner === undefined ? value : { ...record, Message: inner };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
