/**
 * The example API server: answers the client at once and leaves the slow work to courier.
 *
 * - POST /accounts            create an account; NewAccount goes out through the outbox (201)
 * - POST /accounts/:id/verify check an email token ({ token }) or SMS code ({ code })
 * - GET  /verify?accountId&token  the link in the verification email
 * - POST /images              store an original (raw body, Content-Type image/*); renditions follow (202)
 * - GET  /images/:id          the rendition keys once they exist
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { DatabaseSync } from "node:sqlite";
import { HeadObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { z } from "zod";
import {
  createAccount,
  DuplicateAccountError,
  findAccount,
  markVerified,
  signupRequestSchema,
} from "../accounts/account-store.ts";
import { UploadPublishError } from "../images/errors.ts";
import { renditionKey } from "../images/keys.ts";
import { isMissingObject } from "../images/s3-errors.ts";
import { type ImageUploadPublisher, storeUpload } from "../images/store-upload.ts";
import { verifyCode } from "../signup/verification-code.ts";
import type { VerificationKeySource } from "../signup/verification-key.ts";
import { HttpError, readBody, readJson, sendJson, validationError } from "./http.ts";

export interface ApiServerDeps {
  readonly db: DatabaseSync;
  readonly verificationKey: VerificationKeySource;
  readonly s3: S3Client;
  readonly uploadsBucket: string;
  readonly imagePublisher: ImageUploadPublisher;
  /** @default 20 MiB */
  readonly maxUploadBytes?: number;
  readonly now?: () => Date;
}

const verifyRequestSchema = z.union([
  z.object({ token: z.string().min(1).max(200) }).strict(),
  z.object({ code: z.string().min(1).max(20) }).strict(),
]);

const imageIdSchema = z.string().regex(/^[A-Za-z0-9_-]{1,128}$/);

/** decodeURIComponent throws URIError on a malformed escape such as "%E0%A4%A": that is the client's 400. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, "invalid_request", "the path has a malformed percent-encoding");
  }
}

type Route = (req: IncomingMessage, res: ServerResponse, params: string[], url: URL) => Promise<void>;

export function createApiServer(deps: ApiServerDeps): Server {
  const now = deps.now ?? (() => new Date());
  const maxUploadBytes = deps.maxUploadBytes ?? 20 * 1024 * 1024;

  async function verify(res: ServerResponse, accountId: string, proof: { token?: string; code?: string }) {
    const account = findAccount(deps.db, accountId);
    if (!account) throw new HttpError(404, "not_found", `no account ${accountId}`);
    const key = await deps.verificationKey();
    let result: ReturnType<typeof verifyCode>;
    if (proof.token !== undefined) {
      result = verifyCode(
        key,
        { channel: "email", accountId, email: account.email, token: proof.token },
        now(),
      );
    } else {
      if (!account.phone) throw new HttpError(400, "no_phone", "this account has no phone to verify by code");
      result = verifyCode(
        key,
        {
          channel: "sms",
          accountId,
          phone: account.phone,
          code: proof.code ?? "",
          issuedAt: account.createdAt,
        },
        now(),
      );
    }
    if (result.status !== "valid") {
      const status = result.status === "malformed" ? 400 : 422;
      throw new HttpError(status, `code_${result.status}`, `verification ${result.status}`);
    }
    markVerified(deps.db, accountId, now());
    sendJson(res, 200, { accountId, verified: true });
  }

  const routes: Array<{ method: string; pattern: RegExp; handle: Route }> = [
    {
      method: "POST",
      pattern: /^\/accounts$/,
      handle: async (req, res) => {
        const parsed = signupRequestSchema.safeParse(await readJson(req));
        if (!parsed.success) throw validationError(parsed.error);
        try {
          const account = createAccount(deps.db, parsed.data, { now });
          // 201 before any email is sent: the outbox relay publishes NewAccount after the commit.
          sendJson(res, 201, {
            accountId: account.accountId,
            email: account.email,
            createdAt: account.createdAt,
          });
        } catch (error) {
          if (error instanceof DuplicateAccountError)
            throw new HttpError(409, "duplicate_email", error.message);
          throw error;
        }
      },
    },
    {
      method: "POST",
      pattern: /^\/accounts\/([^/]+)\/verify$/,
      handle: async (req, res, [accountId]) => {
        const parsed = verifyRequestSchema.safeParse(await readJson(req));
        if (!parsed.success) throw validationError(parsed.error);
        await verify(res, decodePathSegment(accountId ?? ""), parsed.data);
      },
    },
    {
      method: "GET",
      pattern: /^\/verify$/,
      handle: async (_req, res, _params, url) => {
        const accountId = url.searchParams.get("accountId");
        const token = url.searchParams.get("token");
        if (!accountId || !token)
          throw new HttpError(400, "invalid_request", "accountId and token are required");
        await verify(res, accountId, { token });
      },
    },
    {
      method: "POST",
      pattern: /^\/images$/,
      handle: async (req, res, _params, url) => {
        const contentType = (req.headers["content-type"] ?? "").split(";")[0]?.trim() ?? "";
        if (!contentType.startsWith("image/")) {
          throw new HttpError(
            415,
            "unsupported_media_type",
            "send the image as the raw body with an image/* type",
          );
        }
        const body = await readBody(req, maxUploadBytes);
        if (body.length === 0) throw new HttpError(400, "empty_body", "the upload is empty");
        const uploadedBy = url.searchParams.get("uploadedBy") ?? "anonymous";
        try {
          const stored = await storeUpload({
            s3: deps.s3,
            publisher: deps.imagePublisher,
            bucket: deps.uploadsBucket,
            body,
            contentType,
            uploadedBy,
            now,
          });
          sendJson(res, 202, { imageId: stored.imageId, original: stored.key, eventId: stored.eventId });
        } catch (error) {
          // Stored but not announced: the client may retry; the original is kept for republishing.
          if (error instanceof UploadPublishError) {
            throw new HttpError(503, "publish_failed", error.message, { imageId: error.imageId });
          }
          if (error instanceof z.ZodError) throw validationError(error);
          throw error;
        }
      },
    },
    {
      method: "GET",
      pattern: /^\/images\/([^/]+)$/,
      handle: async (_req, res, [rawId]) => {
        const imageId = imageIdSchema.safeParse(decodePathSegment(rawId ?? ""));
        if (!imageId.success)
          throw new HttpError(400, "invalid_image_id", "image ids are 1-128 of A-Z a-z 0-9 _ -");
        const keys = {
          thumb: renditionKey(imageId.data, "thumb"),
          medium: renditionKey(imageId.data, "medium"),
        };
        const present = await Promise.all(
          Object.values(keys).map((Key) =>
            deps.s3.send(new HeadObjectCommand({ Bucket: deps.uploadsBucket, Key })).then(
              () => true,
              (error: unknown) => {
                if (isMissingObject(error)) return false;
                throw error;
              },
            ),
          ),
        );
        if (present.every(Boolean))
          sendJson(res, 200, { imageId: imageId.data, status: "ready", renditions: keys });
        else sendJson(res, 202, { imageId: imageId.data, status: "pending" });
      },
    },
  ];

  return createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://localhost");
    const matching = routes.filter((r) => r.pattern.test(url.pathname));
    const route = matching.find((r) => r.method === req.method);
    const work = async () => {
      if (!route) {
        if (matching.length > 0)
          throw new HttpError(405, "method_not_allowed", `${req.method} not allowed here`);
        throw new HttpError(404, "not_found", `no route for ${url.pathname}`);
      }
      const params = route.pattern.exec(url.pathname)?.slice(1) ?? [];
      await route.handle(req, res, params, url);
    };
    work().catch((error: unknown) => {
      if (error instanceof HttpError) {
        sendJson(res, error.status, {
          error: error.code,
          message: error.message,
          ...(error.details ? { details: error.details } : {}),
        });
      } else {
        console.error("api: unexpected error", error);
        sendJson(res, 500, { error: "internal", message: "internal error" });
      }
    });
  });
}
