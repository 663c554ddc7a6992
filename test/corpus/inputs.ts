/**
 * The bad-input corpus, as data: what a careless or hostile producer, queue neighbour or HTTP client
 * can send to each of courier's surfaces, and what each must get back. One table-driven test file
 * per surface holds every entry against the real code (publisher.test.ts, runtime.test.ts,
 * api.test.ts in this folder).
 *
 * Every entry expects a typed error naming the problem (publisher, API) or a dead-lettered message
 * whose `courier.failure` reason names it (consumer runtime). None may crash a batch or a process.
 */

/** A valid NewAccount v1 data object; entries change one thing each. */
export function validSignup(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    accountId: "acct-corpus-1",
    email: "ada@example.com",
    displayName: "Ada Lovelace",
    phone: "+14155550123",
    locale: "en-GB",
    createdAt: "2025-06-01T11:59:00.000Z",
    ...overrides,
  };
}

/** `validSignup` without the named fields. */
export function signupWithout(...fields: string[]): Record<string, unknown> {
  const data = validSignup();
  for (const field of fields) delete data[field];
  return data;
}

// Characters the corpus uses, named so the entries read.
export const RLO = "\u202E"; // RIGHT-TO-LEFT OVERRIDE
export const LRI = "\u2066"; // LEFT-TO-RIGHT ISOLATE
export const ZWSP = "\u200B"; // ZERO WIDTH SPACE
export const BOM = "\uFEFF";
export const NUL = "\u0000";
export const LONE_HIGH = "\uD800";
export const LONE_LOW = "\uDC00";

// ---- publisher -------------------------------------------------------------------------------------

export interface PublisherCase {
  readonly name: string;
  /** @default "account-signups" */
  readonly topic?: string;
  readonly data: unknown;
  readonly error: "InvalidMessageError" | "UnknownTopicError";
  /** Words the error message must contain: the field path or topic it is about. */
  readonly mentions: readonly string[];
}

const huge = (n: number) => "x".repeat(n);

export const publisherCases: readonly PublisherCase[] = [
  { name: "data is null", data: null, error: "InvalidMessageError", mentions: ["(root)"] },
  { name: "data is a string", data: "ada@example.com", error: "InvalidMessageError", mentions: ["(root)"] },
  { name: "data is an array", data: [validSignup()], error: "InvalidMessageError", mentions: ["(root)"] },
  { name: "data is a number", data: 42, error: "InvalidMessageError", mentions: ["(root)"] },
  {
    name: "data is empty",
    data: {},
    error: "InvalidMessageError",
    mentions: ["accountId", "email", "createdAt"],
  },
  { name: "email missing", data: signupWithout("email"), error: "InvalidMessageError", mentions: ["email"] },
  {
    name: "accountId missing",
    data: signupWithout("accountId"),
    error: "InvalidMessageError",
    mentions: ["accountId"],
  },
  {
    name: "locale missing",
    data: signupWithout("locale"),
    error: "InvalidMessageError",
    mentions: ["locale"],
  },
  {
    name: "email is a number",
    data: validSignup({ email: 42 }),
    error: "InvalidMessageError",
    mentions: ["email"],
  },
  {
    name: "email is not an address",
    data: validSignup({ email: "not-an-email" }),
    error: "InvalidMessageError",
    mentions: ["email"],
  },
  {
    name: "displayName is empty",
    data: validSignup({ displayName: "" }),
    error: "InvalidMessageError",
    mentions: ["displayName"],
  },
  {
    name: "displayName is only spaces",
    data: validSignup({ displayName: "   " }),
    error: "InvalidMessageError",
    mentions: ["displayName"],
  },
  {
    name: "displayName is an object",
    data: validSignup({ displayName: { first: "Ada" } }),
    error: "InvalidMessageError",
    mentions: ["displayName"],
  },
  {
    name: "phone is not E.164",
    data: validSignup({ phone: "555-1234" }),
    error: "InvalidMessageError",
    mentions: ["phone", "E.164"],
  },
  {
    name: "phone is a number",
    data: validSignup({ phone: 14155550123 }),
    error: "InvalidMessageError",
    mentions: ["phone"],
  },
  {
    name: "phone is a BigInt",
    data: validSignup({ phone: 14155550123n }),
    error: "InvalidMessageError",
    mentions: ["phone"],
  },
  {
    name: "phone in full-width digits",
    data: validSignup({ phone: "+１４１５５５５０１２３" }),
    error: "InvalidMessageError",
    mentions: ["phone"],
  },
  {
    name: "locale is not BCP 47",
    data: validSignup({ locale: "english" }),
    error: "InvalidMessageError",
    mentions: ["locale", "BCP 47"],
  },
  {
    name: "createdAt is not a timestamp",
    data: validSignup({ createdAt: "yesterday" }),
    error: "InvalidMessageError",
    mentions: ["createdAt"],
  },
  {
    name: "createdAt is a Date object",
    data: validSignup({ createdAt: new Date("2025-06-01T00:00:00Z") }),
    error: "InvalidMessageError",
    mentions: ["createdAt"],
  },
  {
    name: "accountId over 128 characters",
    data: validSignup({ accountId: huge(129) }),
    error: "InvalidMessageError",
    mentions: ["accountId"],
  },
  {
    name: "displayName of 300 KB (oversized)",
    data: validSignup({ displayName: huge(300_000) }),
    error: "InvalidMessageError",
    mentions: ["displayName"],
  },
  {
    name: "email of 1 MB (oversized)",
    data: validSignup({ email: `${huge(1_000_000)}@example.com` }),
    error: "InvalidMessageError",
    mentions: ["email"],
  },
  {
    name: "displayName with a right-to-left override",
    data: validSignup({ displayName: `Ada ${RLO}exe.gpj` }),
    error: "InvalidMessageError",
    mentions: ["displayName", "bidirectional"],
  },
  {
    name: "displayName with a bidi isolate",
    data: validSignup({ displayName: `Ada ${LRI}x` }),
    error: "InvalidMessageError",
    mentions: ["displayName", "bidirectional"],
  },
  {
    name: "displayName of zero-width spaces only",
    data: validSignup({ displayName: `${ZWSP}${ZWSP}` }),
    error: "InvalidMessageError",
    mentions: ["displayName", "visible"],
  },
  // JavaScript's trim() takes a BOM for whitespace, so this one is caught as empty.
  {
    name: "displayName of a BOM only",
    data: validSignup({ displayName: BOM }),
    error: "InvalidMessageError",
    mentions: ["displayName"],
  },
  {
    name: "displayName with NUL",
    data: validSignup({ displayName: `Ada${NUL}Lovelace` }),
    error: "InvalidMessageError",
    mentions: ["displayName", "control"],
  },
  {
    name: "displayName with a lone high surrogate",
    data: validSignup({ displayName: `Ada ${LONE_HIGH}` }),
    error: "InvalidMessageError",
    mentions: ["displayName", "surrogate"],
  },
  {
    name: "displayName with a lone low surrogate",
    data: validSignup({ displayName: `${LONE_LOW}Ada` }),
    error: "InvalidMessageError",
    mentions: ["displayName", "surrogate"],
  },
  {
    name: "accountId with NUL",
    data: validSignup({ accountId: `acct${NUL}1` }),
    error: "InvalidMessageError",
    mentions: ["accountId", "control"],
  },
  {
    name: "email with a zero-width space",
    data: validSignup({ email: `ada${ZWSP}@example.com` }),
    error: "InvalidMessageError",
    mentions: ["email"],
  },
  {
    name: "email with a right-to-left override",
    data: validSignup({ email: `ada${RLO}@example.com` }),
    error: "InvalidMessageError",
    mentions: ["email"],
  },
  {
    name: "locale with NUL",
    data: validSignup({ locale: `en${NUL}-GB` }),
    error: "InvalidMessageError",
    mentions: ["locale"],
  },
  {
    name: "topic name misspelt",
    topic: "account-signup",
    data: validSignup(),
    error: "UnknownTopicError",
    mentions: ["account-signup", "account-signups"],
  },
  {
    name: "topic name __proto__",
    topic: "__proto__",
    data: validSignup(),
    error: "UnknownTopicError",
    mentions: ["__proto__"],
  },
  {
    name: "topic name empty",
    topic: "",
    data: validSignup(),
    error: "UnknownTopicError",
    mentions: ["unknown topic"],
  },
];

/** Bodies over SNS's 256 KiB, through a contract with no length limits (prepareMessage directly). */
export const oversizedBodies: ReadonlyArray<{ readonly name: string; readonly text: string }> = [
  { name: "257 KiB of ASCII", text: huge(257 * 1024) },
  { name: "100,000 euro signs: under 256 Ki characters, over 256 KiB in UTF-8", text: "€".repeat(100_000) },
];

// ---- consumer runtime ------------------------------------------------------------------------------

export interface RuntimeCase {
  readonly name: string;
  /** The SQS record body, exactly as it arrives. */
  readonly body: string;
  /** The error class the DLQ reason must carry. */
  readonly errorClass:
    | "MalformedBodyError"
    | "MissingEnvelopeError"
    | "UnsupportedMessageError"
    | "InvalidDataError";
  /** Words the reason's message must contain. */
  readonly mentions: readonly string[];
}

const EVENT_ID = "6f1c2a4e-8d3b-4c5a-9e7f-0a1b2c3d4e5f";

export function validEnvelope(
  data: unknown = validSignup(),
  header: Record<string, unknown> = {},
): Record<string, unknown> {
  return {
    eventId: EVENT_ID,
    type: "NewAccount",
    version: 1,
    occurredAt: "2025-06-01T11:59:00.000Z",
    producer: "api-server",
    data,
    ...header,
  };
}

function envelopeWithout(field: string): Record<string, unknown> {
  const envelope = validEnvelope();
  delete envelope[field];
  return envelope;
}

/** The SNS notification JSON SQS holds when raw message delivery is off. */
export function snsNotification(message: unknown, type = "Notification"): string {
  return JSON.stringify({
    Type: type,
    MessageId: "8a1f3a52-0000-4000-8000-000000000001",
    TopicArn: "arn:aws:sns:us-east-1:000000000000:account-signups",
    Message: message,
    Timestamp: "2025-06-01T11:59:00.000Z",
    SignatureVersion: "1",
    Signature: "EXAMPLE",
    SigningCertURL: "https://sns.us-east-1.amazonaws.com/cert.pem",
    UnsubscribeURL: "https://sns.us-east-1.amazonaws.com/?Action=Unsubscribe",
  });
}

const json = (value: unknown) => JSON.stringify(value);
/** 64 KiB of bytes 0-255, as a body decoded as Latin-1 would arrive. */
const binary = Buffer.from(Array.from({ length: 65_536 }, (_, i) => (i * 151 + 7) % 256)).toString("latin1");

export const runtimeCases: readonly RuntimeCase[] = [
  { name: "empty body", body: "", errorClass: "MalformedBodyError", mentions: ["body is not JSON"] },
  {
    name: "plain text",
    body: "hello, world",
    errorClass: "MalformedBodyError",
    mentions: ["body is not JSON"],
  },
  {
    name: "truncated JSON",
    body: '{"eventId":"6f1c2a4e',
    errorClass: "MalformedBodyError",
    mentions: ["body is not JSON"],
  },
  { name: "binary bytes", body: binary, errorClass: "MalformedBodyError", mentions: ["body is not JSON"] },
  {
    name: "NUL then garbage",
    body: `${NUL}garbage`,
    errorClass: "MalformedBodyError",
    mentions: ["body is not JSON"],
  },
  {
    name: "a valid envelope behind a BOM",
    body: `${BOM}${json(validEnvelope())}`,
    errorClass: "MalformedBodyError",
    mentions: ["body is not JSON"],
  },
  {
    name: "single-quoted pseudo-JSON",
    body: "{'eventId': 'x'}",
    errorClass: "MalformedBodyError",
    mentions: ["body is not JSON"],
  },
  {
    name: "900 KiB that is not JSON (huge body)",
    body: `{${huge(900 * 1024)}`,
    errorClass: "MalformedBodyError",
    mentions: ["body is not JSON"],
  },
  {
    name: "JSON null",
    body: "null",
    errorClass: "MissingEnvelopeError",
    mentions: ["not a courier envelope"],
  },
  {
    name: "JSON array",
    body: "[1,2,3]",
    errorClass: "MissingEnvelopeError",
    mentions: ["not a courier envelope"],
  },
  {
    name: "JSON number",
    body: "42",
    errorClass: "MissingEnvelopeError",
    mentions: ["not a courier envelope"],
  },
  {
    name: "JSON string",
    body: '"NewAccount"',
    errorClass: "MissingEnvelopeError",
    mentions: ["not a courier envelope"],
  },
  {
    name: "200,000 nested arrays",
    body: `${"[".repeat(200_000)}${"]".repeat(200_000)}`,
    errorClass: "MissingEnvelopeError",
    mentions: ["not a courier envelope"],
  },
  {
    name: "empty object",
    body: "{}",
    errorClass: "MissingEnvelopeError",
    mentions: ["eventId", "type", "version", "producer"],
  },
  {
    name: "bare data without an envelope",
    body: json(validSignup()),
    errorClass: "MissingEnvelopeError",
    mentions: ["eventId"],
  },
  {
    name: "eventId not a UUID",
    body: json(validEnvelope(undefined, { eventId: "42" })),
    errorClass: "MissingEnvelopeError",
    mentions: ["eventId"],
  },
  {
    name: "eventId with a lone surrogate",
    body: json(validEnvelope(undefined, { eventId: `${EVENT_ID.slice(0, -1)}${LONE_HIGH}` })),
    errorClass: "MissingEnvelopeError",
    mentions: ["eventId"],
  },
  {
    name: "version as a string",
    body: json(validEnvelope(undefined, { version: "1" })),
    errorClass: "MissingEnvelopeError",
    mentions: ["version"],
  },
  {
    name: "version zero",
    body: json(validEnvelope(undefined, { version: 0 })),
    errorClass: "MissingEnvelopeError",
    mentions: ["version"],
  },
  {
    name: "occurredAt not a timestamp",
    body: json(validEnvelope(undefined, { occurredAt: "now" })),
    errorClass: "MissingEnvelopeError",
    mentions: ["occurredAt"],
  },
  {
    name: "producer missing",
    body: json(envelopeWithout("producer")),
    errorClass: "MissingEnvelopeError",
    mentions: ["producer"],
  },
  {
    name: "type empty",
    body: json(validEnvelope(undefined, { type: "" })),
    errorClass: "MissingEnvelopeError",
    mentions: ["type"],
  },
  {
    name: "producer over 128 characters",
    body: json(validEnvelope(undefined, { producer: huge(129) })),
    errorClass: "MissingEnvelopeError",
    mentions: ["producer"],
  },
  {
    name: "unknown type",
    body: json(validEnvelope(undefined, { type: "PasswordReset" })),
    errorClass: "UnsupportedMessageError",
    mentions: ["PasswordReset v1", "NewAccount v1"],
  },
  {
    name: "unknown version",
    body: json(validEnvelope(undefined, { version: 2 })),
    errorClass: "UnsupportedMessageError",
    mentions: ["NewAccount v2", "accepted"],
  },
  {
    name: "another topic's message (ImageUploaded)",
    body: json(validEnvelope({ imageId: "img-1" }, { type: "ImageUploaded" })),
    errorClass: "UnsupportedMessageError",
    mentions: ["ImageUploaded v1"],
  },
  {
    name: "data missing email",
    body: json(validEnvelope(signupWithout("email"))),
    errorClass: "InvalidDataError",
    mentions: ["email"],
  },
  {
    name: "data with a numeric phone",
    body: json(validEnvelope(validSignup({ phone: 14155550123 }))),
    errorClass: "InvalidDataError",
    mentions: ["phone"],
  },
  {
    name: "data null",
    body: json(validEnvelope(null)),
    errorClass: "InvalidDataError",
    mentions: ["(root)"],
  },
  {
    name: "data with a right-to-left override in displayName",
    body: json(validEnvelope(validSignup({ displayName: `${RLO}nimda` }))),
    errorClass: "InvalidDataError",
    mentions: ["displayName", "bidirectional"],
  },
  {
    name: "data with a lone surrogate in displayName",
    body: json(validEnvelope(validSignup({ displayName: `Ada${LONE_HIGH}` }))),
    errorClass: "InvalidDataError",
    mentions: ["displayName", "surrogate"],
  },
  {
    name: "data with NUL in displayName",
    body: json(validEnvelope(validSignup({ displayName: `Ada${NUL}` }))),
    errorClass: "InvalidDataError",
    mentions: ["displayName", "control"],
  },
  {
    name: "data with a zero-width-only displayName",
    body: json(validEnvelope(validSignup({ displayName: ZWSP }))),
    errorClass: "InvalidDataError",
    mentions: ["displayName", "visible"],
  },
  {
    name: "data with a 300 KB displayName (huge field)",
    body: json(validEnvelope(validSignup({ displayName: huge(300_000) }))),
    errorClass: "InvalidDataError",
    mentions: ["displayName"],
  },
  {
    name: "SNS envelope (raw expected) whose Message is not JSON",
    body: snsNotification("hello"),
    errorClass: "MalformedBodyError",
    mentions: ["SNS notification Message is not JSON"],
  },
  {
    name: "SNS envelope (raw expected) whose Message is invalid data",
    body: snsNotification(json(validEnvelope(signupWithout("email")))),
    errorClass: "InvalidDataError",
    mentions: ["email"],
  },
  {
    name: "SNS envelope wrapped twice",
    body: snsNotification(snsNotification(json(validEnvelope()))),
    errorClass: "MissingEnvelopeError",
    mentions: ["not a courier envelope"],
  },
  {
    name: "SNS SubscriptionConfirmation instead of a notification",
    body: snsNotification("You have chosen to subscribe", "SubscriptionConfirmation"),
    errorClass: "MissingEnvelopeError",
    mentions: ["not a courier envelope"],
  },
  {
    name: "SNS envelope whose Message is an object, not a string",
    body: snsNotification(validEnvelope()),
    errorClass: "MissingEnvelopeError",
    mentions: ["not a courier envelope"],
  },
];

/**
 * Inputs that look wrong but are accepted on purpose, so the corpus states it: the runtime takes the
 * envelope raw (raw message delivery on) or inside an SNS notification (off), so a subscription
 * switched either way does not dead-letter everything; unknown keys are dropped, not trusted.
 */
export const runtimeAcceptedOddities: ReadonlyArray<{ readonly name: string; readonly body: string }> = [
  { name: "SNS envelope where raw delivery was expected", body: snsNotification(json(validEnvelope())) },
  { name: "raw envelope (what a raw subscription delivers)", body: json(validEnvelope()) },
  {
    name: "envelope with a __proto__ key (no prototype pollution)",
    body: json(validEnvelope()).replace('{"eventId"', '{"__proto__":{"polluted":true},"eventId"'),
  },
  {
    name: "envelope with unknown header and data keys",
    body: json(validEnvelope(validSignup({ admin: true }), { trace: "x" })),
  },
];

// ---- example API server ------------------------------------------------------------------------

export interface ApiCase {
  readonly name: string;
  readonly method: "GET" | "POST" | "PUT" | "DELETE";
  readonly path: string;
  /** Omitted: no Content-Type header. */
  readonly contentType?: string;
  readonly body?: string | Uint8Array;
  readonly status: number;
  /** The `error` code of the JSON answer. */
  readonly error: string;
  /** For 400 invalid_request: the field paths `details.fields` must name. */
  readonly fields?: readonly string[];
  /** The emailed link answers a person: an HTML page whose text contains this, not JSON. */
  readonly page?: string;
}

const signupJson = (overrides: Record<string, unknown> = {}) =>
  json({ email: "ada@example.com", displayName: "Ada", locale: "en-GB", ...overrides });

export const apiCases: readonly ApiCase[] = [
  {
    name: "sign-up with malformed JSON",
    method: "POST",
    path: "/accounts",
    contentType: "application/json",
    body: '{"email":',
    status: 400,
    error: "invalid_json",
  },
  {
    name: "sign-up with a BOM before the JSON",
    method: "POST",
    path: "/accounts",
    contentType: "application/json",
    body: `${BOM}${signupJson()}`,
    status: 400,
    error: "invalid_json",
  },
  {
    name: "sign-up as text/plain",
    method: "POST",
    path: "/accounts",
    contentType: "text/plain",
    body: signupJson(),
    status: 415,
    error: "unsupported_media_type",
  },
  {
    name: "sign-up as a form",
    method: "POST",
    path: "/accounts",
    contentType: "application/x-www-form-urlencoded",
    body: "email=ada%40example.com",
    status: 415,
    error: "unsupported_media_type",
  },
  {
    name: "sign-up as multipart",
    method: "POST",
    path: "/accounts",
    contentType: "multipart/form-data; boundary=x",
    body: "--x--",
    status: 415,
    error: "unsupported_media_type",
  },
  {
    name: "sign-up without a Content-Type",
    method: "POST",
    path: "/accounts",
    body: signupJson(),
    status: 415,
    error: "unsupported_media_type",
  },
  {
    name: "sign-up of 100 KB (over the 64 KiB JSON limit)",
    method: "POST",
    path: "/accounts",
    contentType: "application/json",
    body: signupJson({ displayName: huge(100_000) }),
    status: 413,
    error: "payload_too_large",
  },
  {
    name: "sign-up of 10 MB (huge body)",
    method: "POST",
    path: "/accounts",
    contentType: "application/json",
    body: huge(10 * 1024 * 1024),
    status: 413,
    error: "payload_too_large",
  },
  {
    name: "sign-up that is a JSON array",
    method: "POST",
    path: "/accounts",
    contentType: "application/json",
    body: "[]",
    status: 400,
    error: "invalid_request",
  },
  {
    name: "sign-up that is JSON null",
    method: "POST",
    path: "/accounts",
    contentType: "application/json",
    body: "null",
    status: 400,
    error: "invalid_request",
  },
  {
    name: "sign-up with a numeric displayName",
    method: "POST",
    path: "/accounts",
    contentType: "application/json",
    body: signupJson({ displayName: 42 }),
    status: 400,
    error: "invalid_request",
    fields: ["displayName"],
  },
  {
    name: "sign-up with an unknown field",
    method: "POST",
    path: "/accounts",
    contentType: "application/json",
    body: signupJson({ admin: true }),
    status: 400,
    error: "invalid_request",
  },
  {
    name: "sign-up with a right-to-left override in displayName",
    method: "POST",
    path: "/accounts",
    contentType: "application/json",
    body: signupJson({ displayName: `Ada${RLO}gpj.exe` }),
    status: 400,
    error: "invalid_request",
    fields: ["displayName"],
  },
  {
    name: "sign-up with NUL in displayName",
    method: "POST",
    path: "/accounts",
    contentType: "application/json",
    body: signupJson({ displayName: `Ada${NUL}` }),
    status: 400,
    error: "invalid_request",
    fields: ["displayName"],
  },
  {
    name: "sign-up with a lone surrogate (JSON escape) in displayName",
    method: "POST",
    path: "/accounts",
    contentType: "application/json",
    body: '{"email":"ada@example.com","displayName":"Ada \\ud800","locale":"en-GB"}',
    status: 400,
    error: "invalid_request",
    fields: ["displayName"],
  },
  {
    name: "sign-up with a zero-width-only displayName",
    method: "POST",
    path: "/accounts",
    contentType: "application/json",
    body: signupJson({ displayName: `${ZWSP}${ZWSP}` }),
    status: 400,
    error: "invalid_request",
    fields: ["displayName"],
  },
  {
    name: "sign-up with a zero-width space in the email",
    method: "POST",
    path: "/accounts",
    contentType: "application/json",
    body: signupJson({ email: `ada${ZWSP}@example.com` }),
    status: 400,
    error: "invalid_request",
    fields: ["email"],
  },
  {
    name: "sign-up with a full-width phone",
    method: "POST",
    path: "/accounts",
    contentType: "application/json",
    body: signupJson({ phone: "+１４１５５５５０１２３" }),
    status: 400,
    error: "invalid_request",
    fields: ["phone"],
  },
  {
    name: "verify with malformed JSON",
    method: "POST",
    path: "/accounts/acct-1/verify",
    contentType: "application/json",
    body: "{token",
    status: 400,
    error: "invalid_json",
  },
  {
    name: "verify with both a token and a code",
    method: "POST",
    path: "/accounts/acct-1/verify",
    contentType: "application/json",
    body: json({ token: "t", code: "123456" }),
    status: 400,
    error: "invalid_request",
  },
  {
    name: "verify with a malformed percent-encoding in the path",
    method: "POST",
    path: "/accounts/%E0%A4%A/verify",
    contentType: "application/json",
    body: json({ token: "t" }),
    status: 400,
    error: "invalid_request",
  },
  {
    name: "verify an account id of NUL",
    method: "POST",
    path: "/accounts/%00/verify",
    contentType: "application/json",
    body: json({ token: "t" }),
    status: 404,
    error: "not_found",
  },
  {
    name: "code re-send for a channel that does not exist",
    method: "POST",
    path: "/accounts/acct-1/verification/resend",
    contentType: "application/json",
    body: json({ channel: "carrier-pigeon" }),
    status: 400,
    error: "invalid_request",
    fields: ["channel"],
  },
  {
    name: "code re-send naming the phone to send to (only the number on record is used)",
    method: "POST",
    path: "/accounts/acct-1/verification/resend",
    contentType: "application/json",
    body: json({ channel: "sms", phone: "+14155550123" }),
    status: 400,
    error: "invalid_request",
  },
  {
    name: "code re-send without a channel",
    method: "POST",
    path: "/accounts/acct-1/verification/resend",
    contentType: "application/json",
    body: json({}),
    status: 400,
    error: "invalid_request",
    fields: ["channel"],
  },
  {
    name: "code re-send as a form",
    method: "POST",
    path: "/accounts/acct-1/verification/resend",
    contentType: "application/x-www-form-urlencoded",
    body: "channel=sms",
    status: 415,
    error: "unsupported_media_type",
  },
  {
    name: "code re-send for an account that does not exist",
    method: "POST",
    path: "/accounts/no-such-account/verification/resend",
    contentType: "application/json",
    body: json({ channel: "sms" }),
    status: 404,
    error: "not_found",
  },
  {
    name: "code re-send with a malformed percent-encoding in the path",
    method: "POST",
    path: "/accounts/%E0%A4%A/verification/resend",
    contentType: "application/json",
    body: json({ channel: "email" }),
    status: 400,
    error: "invalid_request",
  },
  {
    name: "code re-send by GET",
    method: "GET",
    path: "/accounts/acct-1/verification/resend",
    status: 405,
    error: "method_not_allowed",
  },
  {
    name: "verification link without parameters",
    method: "GET",
    path: "/verify",
    status: 400,
    error: "invalid_request",
    page: "the link lacks its accountId or token",
  },
  {
    name: "verification link with markup in its parameters",
    method: "GET",
    path: `/verify?accountId=${encodeURIComponent('<script>alert("x")</script>')}&token=${encodeURIComponent("<img src=x onerror=alert(1)>")}`,
    status: 400,
    error: "invalid_request",
    page: "no account has this id",
  },
  {
    name: "image upload as text/plain",
    method: "POST",
    path: "/images",
    contentType: "text/plain",
    body: "not an image",
    status: 415,
    error: "unsupported_media_type",
  },
  {
    name: "image upload with an empty body",
    method: "POST",
    path: "/images",
    contentType: "image/png",
    body: new Uint8Array(0),
    status: 400,
    error: "empty_body",
  },
  {
    name: "image upload over the size limit",
    method: "POST",
    path: "/images",
    contentType: "image/png",
    body: new Uint8Array(4096),
    status: 413,
    error: "payload_too_large",
  },
  {
    name: "image upload by a right-to-left override",
    method: "POST",
    path: `/images?uploadedBy=${encodeURIComponent(`${RLO}nimda`)}`,
    contentType: "image/png",
    body: new Uint8Array(16),
    // Only an account's owner files uploads under it, and no account has this id.
    status: 404,
    error: "not_found",
  },
  {
    name: "image upload by NUL",
    method: "POST",
    path: "/images?uploadedBy=%00",
    contentType: "image/png",
    body: new Uint8Array(16),
    // Only an account's owner files uploads under it, and no account has this id.
    status: 404,
    error: "not_found",
  },
  {
    name: "image status with a path-traversal id",
    method: "GET",
    path: "/images/..%2F..%2Fetc%2Fpasswd",
    status: 400,
    error: "invalid_image_id",
  },
  {
    name: "image status with a malformed percent-encoding",
    method: "GET",
    path: "/images/%E0%A4%A",
    status: 400,
    error: "invalid_request",
  },
  {
    name: "a method the route does not allow",
    method: "PUT",
    path: "/accounts",
    contentType: "application/json",
    body: signupJson(),
    status: 405,
    error: "method_not_allowed",
  },
  { name: "a route that does not exist", method: "DELETE", path: "/admin", status: 404, error: "not_found" },
];

/**
 * Pointer records (AWS's extended-client format) that must never be resolved: each is
 * dead-lettered with its reason, with no unbounded read and no read at all outside the payload
 * location. The consumer reads bucket "courier-payloads" under "account-signups/" with a cap of
 * 1,000,000 bytes; `object` is what S3 holds at the key, when the case reaches S3.
 */
export interface PointerCase {
  readonly name: string;
  readonly body: string;
  /** The ExtendedPayloadSize attribute's value. */
  readonly declaredSize: string;
  /** What S3 answers for the key: its length and the bytes streamed; "missing" is NoSuchKey. */
  readonly object?: { readonly contentLength?: number; readonly bytes: number } | "missing";
  readonly errorClass:
    | "MalformedPointerError"
    | "PayloadLocationRefusedError"
    | "PayloadTooLargeError"
    | "PayloadSizeMismatchError"
    | "PayloadMissingError";
  readonly mentions: readonly string[];
  /** Whether S3 may be called at all for this case. */
  readonly readsS3: boolean;
}

export const POINTER_BUCKET = "courier-payloads";
export const POINTER_PREFIX = "account-signups/";
export const POINTER_CAP_BYTES = 1_000_000;
const pointerBody = (bucket: string, key: string) =>
  `["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"${bucket}","s3Key":"${key}"}]`;

export const pointerCases: readonly PointerCase[] = [
  {
    name: "pointer JSON cut short",
    body: '["software.amazon.payloadoffloading.PayloadS3Pointer",{"s3BucketName":"courier-payl',
    declaredSize: "300000",
    errorClass: "MalformedPointerError",
    mentions: ["not JSON"],
    readsS3: false,
  },
  {
    name: "a pointer object without the class name",
    body: '{"s3BucketName":"courier-payloads","s3Key":"account-signups/x"}',
    declaredSize: "300000",
    errorClass: "MalformedPointerError",
    mentions: ["not a PayloadS3Pointer"],
    readsS3: false,
  },
  {
    name: "an ExtendedPayloadSize that is not a number",
    body: pointerBody(POINTER_BUCKET, `${POINTER_PREFIX}x`),
    declaredSize: "lots",
    errorClass: "MalformedPointerError",
    mentions: ["ExtendedPayloadSize", "whole number"],
    readsS3: false,
  },
  {
    name: "a pointer to a bucket the topology does not name",
    body: pointerBody("someone-elses-bucket", `${POINTER_PREFIX}x`),
    declaredSize: "300000",
    errorClass: "PayloadLocationRefusedError",
    mentions: ["someone-elses-bucket", "not a payload bucket"],
    readsS3: false,
  },
  {
    name: "a key outside the payload prefix",
    body: pointerBody(POINTER_BUCKET, "originals/private.jpg"),
    declaredSize: "300000",
    errorClass: "PayloadLocationRefusedError",
    mentions: ["outside the payload prefix"],
    readsS3: false,
  },
  {
    name: "a key climbing out of the prefix with ..",
    body: pointerBody(POINTER_BUCKET, `${POINTER_PREFIX}../originals/private.jpg`),
    declaredSize: "300000",
    errorClass: "PayloadLocationRefusedError",
    mentions: ["outside the payload prefix"],
    readsS3: false,
  },
  {
    name: "a declared size over the consumer's cap",
    body: pointerBody(POINTER_BUCKET, `${POINTER_PREFIX}big`),
    declaredSize: "50000000",
    errorClass: "PayloadTooLargeError",
    mentions: ["50000000", "cap"],
    readsS3: false,
  },
  {
    name: "an object larger than the cap behind a small declared size",
    body: pointerBody(POINTER_BUCKET, `${POINTER_PREFIX}swapped`),
    declaredSize: "300000",
    object: { contentLength: 4_000_000_000, bytes: 0 },
    errorClass: "PayloadTooLargeError",
    mentions: ["4000000000", "cap"],
    readsS3: true,
  },
  {
    name: "an object whose size differs from ExtendedPayloadSize",
    body: pointerBody(POINTER_BUCKET, `${POINTER_PREFIX}changed`),
    declaredSize: "300000",
    object: { contentLength: 299_999, bytes: 299_999 },
    errorClass: "PayloadSizeMismatchError",
    mentions: ["299999", "300000"],
    readsS3: true,
  },
  {
    name: "an object streamed without a length that runs past its declared size",
    body: pointerBody(POINTER_BUCKET, `${POINTER_PREFIX}endless`),
    declaredSize: "1000",
    object: { bytes: 900_000_000 },
    errorClass: "PayloadSizeMismatchError",
    mentions: ["read stopped"],
    readsS3: true,
  },
  {
    name: "a pointer whose object is gone",
    body: pointerBody(POINTER_BUCKET, `${POINTER_PREFIX}expired`),
    declaredSize: "300000",
    object: "missing",
    errorClass: "PayloadMissingError",
    mentions: ["does not exist"],
    readsS3: true,
  },
];
