/**
 * The example API server: answers the client at once and leaves the slow work to courier.
 *
 * - POST /accounts            create an account; NewAccount goes out through the outbox (201)
 * - POST /accounts/:id/verify check an email token ({ token }) or SMS code ({ code })
 * - POST /accounts/:id/verification/resend  issue a new code ({ channel: "sms" | "email" }) (202)
 * - GET  /verify?accountId&token  the link in the verification email: an HTML page for a person
 * - POST /accounts/:id/password-reset  request a reset link; PasswordResetRequested goes out through
 *                             the outbox on the ordered password-resets topic (202)
 * - POST /accounts/:id/password  set a new password with the newest reset link's token ({ token, password })
 * - GET  /accounts/:id/audit  the account's security audit trail, in publish order
 * - DELETE /accounts/:id      erase the account: its messages leave the topics' archives (and are
 *                             never replayed), then its rows go (200)
 *
 * Owners only: sign-up answers the account's credential (account-credential.ts), and every route
 * under /accounts/:id (but the password reset pair, whose emailed token is the proof) and an upload
 * naming an account require it as `Authorization: Bearer <credential>`: 401 without a genuine one,
 * 403 for another account's, checked before the account is looked up (a stranger learns nothing).
 *
 * Abuse resistance (README "Threat model"): wrong codes are counted per account and channel and
 * lock the code (verification-attempts.ts); sign-ups and re-sends are rate limited per client and
 * per target (edge-limits.ts); slow or endless requests are cut (server-hardening.ts). Reset
 * requests are rate limited per client and per account (its address); reset tokens that do not
 * work are counted per account and client, and lock that client out until a new request
 * (password-resets.ts), so a stranger cannot lock the owner out; the owner's successful reset
 * restores the account's request budget. Every
 * such token gets the same answer, so the API never tells a wrong token from an old or expired one.
 * - POST /images              store an original (raw body, Content-Type image/*); renditions follow (202)
 *                             (?uploadedBy=<accountId>, with that account's credential, records it
 *                             among the account's objects); rate limited per client and per account
 * - GET  /images/:id          ready (with the rendition keys), pending, or failed (with the reason)
 * - POST /accounts/:id/export the account's data export: its manifest is published, the file follows (202)
 * - GET  /accounts/:id/exports/:exportId  ready (the file's key and size) or pending
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { DatabaseSync } from "node:sqlite";
import type { S3Client } from "@aws-sdk/client-s3";
import { startTrace, type TraceContext } from "@courier-queue/courier";
import {
  context as otelContext,
  trace as otelTrace,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
} from "@opentelemetry/api";
import { z } from "zod";
import { accountCredential, checkCredential } from "../accounts/account-credential.ts";
import {
  type Account,
  createAccount,
  DuplicateAccountError,
  deleteAccount,
  findAccount,
  markVerified,
  requestCodeResend,
  signupRequestSchema,
} from "../accounts/account-store.ts";
import { recordAccountUpload } from "../accounts/account-uploads.ts";
import {
  attemptPasswordReset,
  completePasswordReset,
  DEFAULT_MAX_RESET_FAILURES,
  requestPasswordReset,
} from "../accounts/password-resets.ts";
import { hashPassword, newPasswordSchema } from "../accounts/passwords.ts";
import {
  attemptCode,
  type ComparisonOutcome,
  DEFAULT_MAX_CODE_FAILURES,
} from "../accounts/verification-attempts.ts";
import {
  type AccountExportPublisher,
  buildExportRequest,
  ExportTooLargeError,
  exportStatus,
} from "../exports/index.ts";
import { UploadPublishError } from "../images/errors.ts";
import { imageStatus } from "../images/image-status.ts";
import { type ImageUploadPublisher, storeUpload } from "../images/store-upload.ts";
import type { AuditTrailItem } from "../security-audit/audit-table.ts";
import {
  expiryFor,
  type VerificationChannel,
  type VerificationResult,
  verifyCode,
} from "../signup/verification-code.ts";
import type { VerificationKeySource } from "../signup/verification-key.ts";
import { clientAddress } from "./client-address.ts";
import { createEdgeLimiter, type EdgeLimiter } from "./edge-limits.ts";
import {
  closeAfterResponse,
  HttpError,
  readBody,
  readJson,
  sendHtml,
  sendJson,
  TooManyRequestsError,
  validationError,
} from "./http.ts";
import {
  applyConnectionLimits,
  DEFAULT_SERVER_TIMEOUTS,
  hardenedServerOptions,
  type ServerTimeouts,
  validateTimeouts,
} from "./server-hardening.ts";
import { renderVerifyPage, type VerifyPageOutcome } from "./verify-page.ts";

export interface ApiServerDeps {
  readonly db: DatabaseSync;
  readonly verificationKey: VerificationKeySource;
  readonly s3: S3Client;
  readonly uploadsBucket: string;
  readonly imagePublisher: ImageUploadPublisher;
  /**
   * Publishes account exports (courier's publisher, with a payload store for large manifests).
   * @default - none: POST /accounts/:id/export answers 503
   */
  readonly exportPublisher?: AccountExportPublisher;
  /** @default 20 MiB */
  readonly maxUploadBytes?: number;
  readonly now?: () => Date;
  /** Rate limits of sign-ups and re-sends. @default createEdgeLimiter(DEFAULT_EDGE_LIMITS) */
  readonly edgeLimiter?: EdgeLimiter;
  /** Proxies in front that append to X-Forwarded-For; 0 trusts only the socket. @default 0 */
  readonly trustedProxyHops?: number;
  /** Wrong codes per account and channel before the code locks. @default DEFAULT_MAX_CODE_FAILURES (5) */
  readonly maxCodeFailures?: number;
  /** @default DEFAULT_SERVER_TIMEOUTS */
  readonly timeouts?: ServerTimeouts;
  /** Where each request's log line goes. @default one JSON line on stdout */
  readonly requestLog?: (entry: ApiRequestLog) => void;
  /** Reset tokens that do not work, per account, before resets lock. @default DEFAULT_MAX_RESET_FAILURES (5) */
  readonly maxResetFailures?: number;
  /**
   * Reads an account's security audit trail (the security-audit consumer's table), oldest first.
   * @default - none: GET /accounts/:id/audit answers 503
   */
  readonly auditTrail?: (accountId: string) => Promise<readonly AuditTrailItem[]>;
  /**
   * Erases an account's archived messages (courier's `eraseSubject` over the topics whose archive
   * subject is accountId); runs before the account's rows are deleted, so a failure leaves both.
   * @default - none: DELETE /accounts/:id deletes the rows only and says the archive was not erased
   */
  readonly eraseArchive?: (accountId: string) => Promise<{ readonly messagesRemoved: number }>;
  /** Hashes a new password for storage. @default hashPassword (scrypt, DEFAULT_SCRYPT_PARAMS) */
  readonly hashPassword?: (password: string) => Promise<string>;
}

/** A reset request carries nothing to choose: an empty body or `{}`. */
const resetRequestSchema = z.object({}).strict();
const newPasswordRequestSchema = z
  .object({ token: z.string().min(1).max(200), password: newPasswordSchema })
  .strict();

/** One answer for every reset token that does not work: which of them it was is not told. */
function resetTokenInvalid(attemptsLeft: number): HttpError {
  return new HttpError(
    422,
    "token_invalid",
    "the reset link does not work: it may be mistyped, expired, already used, or replaced by a newer one",
    { attemptsLeft },
  );
}

/** A body is optional on a bodiless POST: none declared (no length, no chunking) or an empty one. */
function hasBody(req: IncomingMessage): boolean {
  const length = req.headers["content-length"];
  return length !== undefined ? length !== "0" : req.headers["transfer-encoding"] !== undefined;
}

/**
 * One line per request, with the ids that tie it to every consumer's lines for the messages it
 * caused. The path only: query strings carry tokens (the emailed link), which logs must not keep.
 */
export interface ApiRequestLog {
  readonly message: "request";
  readonly method: string;
  readonly path: string;
  readonly status: number;
  readonly durationMs: number;
  readonly correlationId: string;
  readonly traceparent: string;
}

/** The response header that gives the client the request's correlation id (and takes one, if safe). */
export const CORRELATION_ID_HEADER = "x-correlation-id";

const stdoutRequestLog = (entry: ApiRequestLog) =>
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);

const resendRequestSchema = z.object({ channel: z.enum(["sms", "email"]) }).strict();

/** The target a code goes to: what per-target limits count. */
function codeTarget(account: Account, channel: VerificationChannel): string {
  return channel === "sms" ? (account.phone ?? "") : account.email.toLowerCase();
}

const verifyRequestSchema = z.union([
  z.object({ token: z.string().min(1).max(200) }).strict(),
  z.object({ code: z.string().min(1).max(20) }).strict(),
]);

/** Why a link failed, in a person's words, by the JSON API's error code; others keep their message. */
const LINK_FAILURES: Record<string, string> = {
  not_found: "no account has this id (it may have been deleted)",
  code_malformed: "the token is not in the form the email gives",
  code_mismatch:
    "the token does not match this account: it was altered, is for another account, or a newer link replaced it",
};

const imageIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/);
const exportIdSchema = z.uuid();

/** decodeURIComponent throws URIError on a malformed escape such as "%E0%A4%A": that is the client's 400. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, "invalid_request", "the path has a malformed percent-encoding");
  }
}

type Route = (
  req: IncomingMessage,
  res: ServerResponse,
  params: string[],
  url: URL,
  trace: TraceContext,
) => Promise<void>;

export function createApiServer(deps: ApiServerDeps): Server {
  const now = deps.now ?? (() => new Date());
  const maxUploadBytes = deps.maxUploadBytes ?? 20 * 1024 * 1024;

  const limiter = deps.edgeLimiter ?? createEdgeLimiter();
  const maxCodeFailures = deps.maxCodeFailures ?? DEFAULT_MAX_CODE_FAILURES;
  const maxResetFailures = deps.maxResetFailures ?? DEFAULT_MAX_RESET_FAILURES;
  const timeouts = deps.timeouts ?? DEFAULT_SERVER_TIMEOUTS;
  const requestLog = deps.requestLog ?? stdoutRequestLog;
  validateTimeouts(timeouts);
  const client = (req: IncomingMessage) =>
    clientAddress(
      req,
      deps.trustedProxyHops !== undefined ? { trustedProxyHops: deps.trustedProxyHops } : {},
    );

  /** Checks a token or code and marks the account verified; a failed check throws its HttpError. */
  async function verify(accountId: string, proof: { token?: string; code?: string }): Promise<void> {
    const account = findAccount(deps.db, accountId);
    if (!account) throw new HttpError(404, "not_found", "no such account");
    const channel: VerificationChannel = proof.token !== undefined ? "email" : "sms";
    if (channel === "sms" && !account.phone)
      throw new HttpError(400, "no_phone", "this account has no phone to verify by code");
    const key = await deps.verificationKey();
    const at = now();
    const attempt = attemptCode(
      deps.db,
      accountId,
      channel,
      (state): { outcome: ComparisonOutcome; result: VerificationResult } => {
        // The code in force dates from the latest re-send, else from the account's creation.
        const issuedAt = state.issuedAt ?? account.createdAt;
        let result: VerificationResult;
        if (channel === "email") {
          result = verifyCode(
            key,
            { channel, accountId, email: account.email, token: proof.token ?? "" },
            at,
          );
          // A link carries its own expiry: one from before the latest re-send is genuine but void.
          if ("expiresAt" in result && result.expiresAt.getTime() !== expiryFor(issuedAt) * 1000) {
            result = { status: "mismatch" };
          }
        } else {
          result = verifyCode(
            key,
            { channel, accountId, phone: account.phone ?? "", code: proof.code ?? "", issuedAt },
            at,
          );
        }
        if (result.status === "valid") markVerified(deps.db, accountId, channel, at);
        const outcome =
          result.status === "valid" ? "match" : result.status === "mismatch" ? "mismatch" : "other";
        return { outcome, result };
      },
      { maxFailures: maxCodeFailures, now: at },
    );
    if (attempt.status === "locked") {
      // Retrying the same code cannot help: only a re-send unlocks it, so say when one is allowed.
      const wait = await limiter.waitSeconds("code-resend", codeTarget(account, channel));
      throw new TooManyRequestsError(
        Math.max(1, wait),
        "code_locked",
        `too many wrong codes: this code is locked; request a new one`,
        { resend: `/accounts/${encodeURIComponent(accountId)}/verification/resend`, channel },
      );
    }
    const { result } = attempt;
    if (result.status !== "valid") {
      const status = result.status === "malformed" ? 400 : 422;
      const attemptsLeft = Math.max(0, maxCodeFailures - attempt.failures);
      throw new HttpError(status, `code_${result.status}`, `verification ${result.status}`, {
        attemptsLeft,
      });
    }
  }

  function existingAccount(rawId: string): Account {
    const account = findAccount(deps.db, decodePathSegment(rawId));
    if (!account) throw new HttpError(404, "not_found", "no such account");
    return account;
  }

  /**
   * The account `accountId` names, if the request carries its credential. Checked before the
   * account is looked up: without the credential no answer says whether the account exists.
   */
  async function ownedAccount(req: IncomingMessage, accountId: string): Promise<Account> {
    await requireOwner(req, accountId);
    const account = findAccount(deps.db, accountId);
    if (!account) throw new HttpError(404, "not_found", "no such account");
    return account;
  }

  /** 401 without a genuine credential, 403 with another account's; the account is not looked up. */
  async function requireOwner(req: IncomingMessage, accountId: string): Promise<void> {
    const check = checkCredential(await deps.verificationKey(), req.headers.authorization);
    if (check.status === "missing")
      throw new HttpError(
        401,
        "credential_required",
        "this route needs the account's credential from sign-up (Authorization: Bearer <credential>)",
      );
    if (check.status === "invalid")
      throw new HttpError(401, "credential_invalid", "the credential is not one this API issued");
    if (check.accountId !== accountId)
      throw new HttpError(403, "not_owner", "the credential is another account's");
  }

  /** Sets a new password if `token` is the account's newest, unused reset token. */
  async function resetPassword(
    account: Account,
    token: string,
    password: string,
    client: string,
  ): Promise<void> {
    const key = await deps.verificationKey();
    const at = now();
    const attempt = attemptPasswordReset(deps.db, account, token, key, {
      maxFailures: maxResetFailures,
      now: at,
      client,
    });
    if (attempt.status === "locked") {
      // No token can help now: only a new request unlocks, so say when one is allowed.
      const wait = await limiter.waitSeconds("password-reset", account.email.toLowerCase());
      throw new TooManyRequestsError(
        Math.max(1, wait),
        "reset_locked",
        "too many reset links that did not work: resets are locked; request a new link",
        { request: `/accounts/${encodeURIComponent(account.accountId)}/password-reset` },
      );
    }
    if (attempt.status === "malformed")
      throw new HttpError(400, "token_malformed", "the token is not in the form the reset email gives");
    if (attempt.status === "invalid")
      throw resetTokenInvalid(Math.max(0, maxResetFailures - attempt.failures));
    // Hashed only for a token that works: a wrong one costs no scrypt run.
    const hash = await (deps.hashPassword ?? hashPassword)(password);
    // A newer request or a concurrent use in between voids the token; the same answer as any other.
    if (!completePasswordReset(deps.db, account.accountId, attempt.requestedAt, hash, now()))
      throw resetTokenInvalid(0);
    // The owner got in: whatever budget strangers spent on this account's requests is given back.
    await limiter.restore("password-reset", account.email.toLowerCase());
  }

  /** The emailed link's check, told as a page: the same check (and limits) as the JSON API. */
  async function verifyLink(accountId: string | null, token: string | null): Promise<VerifyPageOutcome> {
    if (!accountId || !token) return { kind: "invalid", reason: "the link lacks its accountId or token" };
    try {
      await verify(accountId, { token });
      return { kind: "verified", accountId };
    } catch (error) {
      if (!(error instanceof HttpError)) throw error;
      if (error.code === "code_expired") return { kind: "expired", accountId };
      return { kind: "invalid", reason: LINK_FAILURES[error.code] ?? error.message };
    }
  }

  const routes: Array<{ method: string; pattern: RegExp; handle: Route }> = [
    {
      method: "POST",
      pattern: /^\/accounts$/,
      handle: async (req, res, _params, _url, trace) => {
        const parsed = signupRequestSchema.safeParse(await readJson(req));
        if (!parsed.success) throw validationError(parsed.error);
        // Counted once well-formed: a malformed request costs nothing downstream, a sign-up an email
        // and maybe an SMS. Duplicates count too, so the limit also slows probing for addresses.
        const targets = [parsed.data.email.toLowerCase(), ...(parsed.data.phone ? [parsed.data.phone] : [])];
        await limiter.take("signup", { client: client(req), targets });
        try {
          const account = createAccount(deps.db, parsed.data, { now, trace });
          const credential = accountCredential(await deps.verificationKey(), account.accountId);
          // 201 before any email is sent: the outbox relay publishes NewAccount after the commit.
          sendJson(res, 201, {
            accountId: account.accountId,
            email: account.email,
            createdAt: account.createdAt,
            credential,
          });
        } catch (error) {
          // The message does not repeat the address: errors never echo the request.
          if (error instanceof DuplicateAccountError)
            throw new HttpError(409, "duplicate_email", "an account with this email already exists");
          throw error;
        }
      },
    },
    {
      method: "POST",
      pattern: /^\/accounts\/([^/]+)\/verify$/,
      handle: async (req, res, [accountId]) => {
        const id = decodePathSegment(accountId ?? "");
        await requireOwner(req, id);
        const parsed = verifyRequestSchema.safeParse(await readJson(req));
        if (!parsed.success) throw validationError(parsed.error);
        await verify(id, parsed.data);
        sendJson(res, 200, {
          accountId: id,
          verified: true,
          channel: "token" in parsed.data ? "email" : "sms",
        });
      },
    },
    {
      method: "POST",
      pattern: /^\/accounts\/([^/]+)\/verification\/resend$/,
      handle: async (req, res, [rawId], _url, trace) => {
        const accountId = decodePathSegment(rawId ?? "");
        await requireOwner(req, accountId);
        const parsed = resendRequestSchema.safeParse(await readJson(req));
        if (!parsed.success) throw validationError(parsed.error);
        const account = findAccount(deps.db, accountId);
        if (!account) throw new HttpError(404, "not_found", "no such account");
        const { channel } = parsed.data;
        if (channel === "email" ? account.verifiedAt : account.phoneVerifiedAt)
          throw new HttpError(
            409,
            "already_verified",
            `this account's ${channel === "email" ? "email" : "phone"} is verified already`,
          );
        if (channel === "sms" && !account.phone)
          throw new HttpError(400, "no_phone", "this account has no phone to send a code to");
        await limiter.take("code-resend", { client: client(req), targets: [codeTarget(account, channel)] });
        requestCodeResend(deps.db, account, channel, now(), trace);
        sendJson(res, 202, { accountId, channel, resent: true });
      },
    },
    {
      method: "POST",
      pattern: /^\/accounts\/([^/]+)\/password-reset$/,
      handle: async (req, res, [rawId], _url, trace) => {
        const parsed = resetRequestSchema.safeParse(hasBody(req) ? await readJson(req) : {});
        if (!parsed.success) throw validationError(parsed.error);
        const account = existingAccount(rawId ?? "");
        await limiter.take("password-reset", {
          client: client(req),
          targets: [account.email.toLowerCase()],
        });
        const userAgent = req.headers["user-agent"];
        requestPasswordReset(
          deps.db,
          account,
          now(),
          { ip: client(req), ...(userAgent ? { userAgent } : {}) },
          trace,
        );
        // 202 before any email is sent: the outbox relay publishes PasswordResetRequested after the commit.
        sendJson(res, 202, { accountId: account.accountId, accepted: true });
      },
    },
    {
      method: "POST",
      pattern: /^\/accounts\/([^/]+)\/password$/,
      handle: async (req, res, [rawId]) => {
        const parsed = newPasswordRequestSchema.safeParse(await readJson(req));
        if (!parsed.success) throw validationError(parsed.error);
        const account = existingAccount(rawId ?? "");
        await resetPassword(account, parsed.data.token, parsed.data.password, client(req));
        sendJson(res, 200, { accountId: account.accountId, passwordChanged: true });
      },
    },
    {
      method: "DELETE",
      pattern: /^\/accounts\/([^/]+)$/,
      handle: async (req, res, [rawId]) => {
        const account = await ownedAccount(req, decodePathSegment(rawId ?? ""));
        let archive: { erased: boolean; messagesRemoved?: number } = { erased: false };
        if (deps.eraseArchive) {
          try {
            const result = await deps.eraseArchive(account.accountId);
            archive = { erased: true, messagesRemoved: result.messagesRemoved };
          } catch (error) {
            console.error("api: erasing the account's archived messages failed", error);
            throw new HttpError(
              503,
              "erase_unavailable",
              "the account's history could not be erased; retry later",
            );
          }
        }
        deleteAccount(deps.db, account.accountId);
        sendJson(res, 200, { accountId: account.accountId, deleted: true, archive });
      },
    },
    {
      method: "GET",
      pattern: /^\/accounts\/([^/]+)\/audit$/,
      handle: async (req, res, [rawId]) => {
        const account = await ownedAccount(req, decodePathSegment(rawId ?? ""));
        if (!deps.auditTrail)
          throw new HttpError(503, "audit_unavailable", "this server has no audit trail configured");
        let trail: readonly AuditTrailItem[];
        try {
          trail = await deps.auditTrail(account.accountId);
        } catch (error) {
          console.error("api: reading the audit trail failed", error);
          throw new HttpError(503, "audit_unavailable", "the audit trail could not be read; retry later");
        }
        sendJson(res, 200, {
          accountId: account.accountId,
          entries: trail.map((entry) => ({
            sequenceNumber: entry.sequenceNumber,
            eventId: entry.eventId,
            type: entry.type,
            occurredAt: entry.occurredAt,
            recordedAt: entry.recordedAt,
            detail: entry.detail,
          })),
        });
      },
    },
    {
      method: "GET",
      pattern: /^\/verify$/,
      handle: async (_req, res, _params, url) => {
        const outcome = await verifyLink(url.searchParams.get("accountId"), url.searchParams.get("token"));
        sendHtml(res, renderVerifyPage(outcome));
      },
    },
    {
      method: "POST",
      pattern: /^\/images$/,
      handle: async (req, res, _params, url, trace) => {
        const contentType = (req.headers["content-type"] ?? "").split(";")[0]?.trim() ?? "";
        if (!contentType.startsWith("image/")) {
          throw new HttpError(
            415,
            "unsupported_media_type",
            "send the image as the raw body with an image/* type",
          );
        }
        const named = url.searchParams.get("uploadedBy");
        // Only its owner files an upload under an account (it goes into the account's export).
        if (named !== null) await ownedAccount(req, named);
        const uploadedBy = named ?? "anonymous";
        // Counted before the body is read: a refused upload costs neither bandwidth nor S3.
        await limiter.take("image-upload", { client: client(req), targets: named !== null ? [named] : [] });
        const body = await readBody(req, maxUploadBytes);
        if (body.length === 0) throw new HttpError(400, "empty_body", "the upload is empty");
        try {
          const stored = await storeUpload({
            s3: deps.s3,
            publisher: deps.imagePublisher,
            bucket: deps.uploadsBucket,
            body,
            contentType,
            uploadedBy,
            now,
            trace,
          });
          // An account's upload is listed in its data export.
          if (named !== null) {
            recordAccountUpload(deps.db, {
              accountId: uploadedBy,
              imageId: stored.imageId,
              key: stored.key,
              contentType: stored.data.contentType,
              byteSize: stored.data.byteSize,
              uploadedAt: stored.data.uploadedAt,
            });
          }
          sendJson(res, 202, { imageId: stored.imageId, original: stored.key, eventId: stored.eventId });
        } catch (error) {
          // Stored but not announced: the client may retry; the original is kept for republishing.
          if (error instanceof UploadPublishError) {
            throw new HttpError(503, "publish_failed", error.message, { imageId: error.imageId });
          }
          // The contract is zod/mini: its errors are core $ZodErrors (classic's ZodError is one too).
          if (error instanceof z.core.$ZodError) throw validationError(error);
          throw error;
        }
      },
    },
    {
      method: "POST",
      pattern: /^\/accounts\/([^/]+)\/export$/,
      handle: async (req, res, [rawId], _url, trace) => {
        const accountId = decodePathSegment(rawId ?? "");
        await ownedAccount(req, accountId);
        const body = await readBody(req, 1024);
        if (body.length > 0) throw new HttpError(400, "unexpected_body", "this request takes no body");
        // Counted before the manifest is built: an export reads every record the account has.
        await limiter.take("account-export", { client: client(req), targets: [accountId] });
        if (!deps.exportPublisher) {
          throw new HttpError(503, "exports_unavailable", "this server does not publish exports");
        }
        let request: ReturnType<typeof buildExportRequest>;
        try {
          request = buildExportRequest(deps.db, accountId, { now });
        } catch (error) {
          if (error instanceof ExportTooLargeError)
            throw new HttpError(422, "export_too_large", error.message);
          throw error;
        }
        try {
          await deps.exportPublisher.publish("account-exports", request, { trace });
        } catch (error) {
          // Nothing was promised yet: the client asks again (the budget spent is the price of a retry).
          console.error("api: publishing an account export failed", error);
          throw new HttpError(503, "publish_failed", "the export could not be requested; retry later");
        }
        sendJson(res, 202, {
          accountId,
          exportId: request.exportId,
          items: request.items.length,
          status: `/accounts/${encodeURIComponent(accountId)}/exports/${request.exportId}`,
        });
      },
    },
    {
      method: "GET",
      pattern: /^\/accounts\/([^/]+)\/exports\/([^/]+)$/,
      handle: async (req, res, [rawId, rawExportId]) => {
        const accountId = decodePathSegment(rawId ?? "");
        await ownedAccount(req, accountId);
        const exportId = exportIdSchema.safeParse(decodePathSegment(rawExportId ?? ""));
        if (!exportId.success) throw new HttpError(400, "invalid_export_id", "an export id is a UUID");
        const status = await exportStatus(deps.s3, deps.uploadsBucket, accountId, exportId.data);
        sendJson(res, status.status === "ready" ? 200 : 202, {
          accountId,
          exportId: exportId.data,
          ...status,
        });
      },
    },
    {
      method: "GET",
      pattern: /^\/images\/([^/]+)$/,
      handle: async (_req, res, [rawId]) => {
        const imageId = imageIdSchema.safeParse(decodePathSegment(rawId ?? ""));
        if (!imageId.success)
          throw new HttpError(400, "invalid_image_id", "image ids are 1-128 of A-Z a-z 0-9 _ -");
        const { status, ...details } = await imageStatus(deps.s3, deps.uploadsBucket, imageId.data);
        if (status === "not-found") throw new HttpError(404, "not_found", "no image with this id");
        // 202 only while work is really pending; a failed upload is a settled answer (200).
        sendJson(res, status === "pending" ? 202 : 200, { imageId: imageId.data, status, ...details });
      },
    },
  ];

  const server = createServer(hardenedServerOptions(timeouts), (req, res) => {
    const startedAt = performance.now();
    const url = new URL(req.url ?? "/", "http://localhost");
    // The caller's trace continues here (an invalid traceparent starts a new one); every message
    // this request publishes carries it, and the client gets the correlation id back.
    const started = startTrace({
      traceparent: req.headers.traceparent,
      correlationId: req.headers[CORRELATION_ID_HEADER],
    });
    // A SERVER span per request where an OpenTelemetry SDK runs (npm start's does); the request's
    // context is then that span's, so the outbox row, and every message it publishes, name it.
    const span = serverSpan(req, url);
    const trace = span
      ? { ...started, traceparent: traceparentOfSpan(span) ?? started.traceparent }
      : started;
    span?.setAttribute("courier.correlation_id", trace.correlationId);
    res.setHeader(CORRELATION_ID_HEADER, trace.correlationId);
    res.once("finish", () => {
      if (span) {
        span.setAttribute("http.response.status_code", res.statusCode);
        if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
        span.end();
      }
      requestLog({
        message: "request",
        method: req.method ?? "",
        path: url.pathname.slice(0, 256),
        status: res.statusCode,
        durationMs: Math.round(performance.now() - startedAt),
        correlationId: trace.correlationId,
        traceparent: trace.traceparent,
      });
    });
    const matching = routes.filter((r) => r.pattern.test(url.pathname));
    const route = matching.find((r) => r.method === req.method);
    const work = async () => {
      if (!route) {
        if (matching.length > 0) throw new HttpError(405, "method_not_allowed", "method not allowed here");
        throw new HttpError(404, "not_found", "no such route");
      }
      const params = route.pattern.exec(url.pathname)?.slice(1) ?? [];
      await route.handle(req, res, params, url, trace);
    };
    const run = span ? () => otelContext.with(otelTrace.setSpan(otelContext.active(), span), work) : work;
    run().catch((error: unknown) => {
      // The client went away mid-request (Node's "aborted"): there is no one to answer.
      if ((error as NodeJS.ErrnoException | undefined)?.code === "ECONNRESET" && req.destroyed) return;
      // A refused request whose body was not read: end the connection rather than drain the body.
      if (!req.complete) closeAfterResponse(req, res);
      if (error instanceof HttpError) {
        const headers: Record<string, number> =
          error instanceof TooManyRequestsError ? { "retry-after": error.retryAfterSeconds } : {};
        sendJson(
          res,
          error.status,
          { error: error.code, message: error.message, ...(error.details ? { details: error.details } : {}) },
          headers,
        );
      } else {
        // The operator's log gets the details; the client gets none of them.
        console.error(`api: unexpected error (correlationId ${trace.correlationId})`, error);
        sendJson(res, 500, { error: "internal", message: "internal error" });
      }
    });
  });
  applyConnectionLimits(server, timeouts);
  return server;
}

/** The request's SERVER span, a child of the caller's traceparent; undefined without an SDK. */
function serverSpan(req: IncomingMessage, url: URL): Span | undefined {
  const parent = propagation.extract(ROOT_CONTEXT, req.headers);
  const span = otelTrace.getTracer("courier-example-api").startSpan(
    `${req.method ?? "GET"} ${url.pathname.replace(/\/[^/]*\d[^/]*(?=\/|$)/g, "/:id")}`,
    {
      kind: SpanKind.SERVER,
      attributes: { "http.request.method": req.method ?? "", "url.path": url.pathname.slice(0, 256) },
    },
    parent,
  );
  if (span.isRecording()) return span;
  span.end();
  return undefined;
}

function traceparentOfSpan(span: Span): string | undefined {
  const { traceId, spanId, traceFlags } = span.spanContext();
  return /^0+$/.test(traceId) ? undefined : `00-${traceId}-${spanId}-${traceFlags & 1 ? "01" : "00"}`;
}
