/**
 * A stand-in for the team's chat webhook in local runs: it accepts Slack-style JSON posts, keeps
 * them, and reports each one, so team-notify has a real HTTP endpoint to call.
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

export interface WebhookPost {
  readonly receivedAt: string;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly body: unknown;
}

export interface WebhookSink {
  readonly url: string;
  readonly posts: readonly WebhookPost[];
  /**
   * The status the sink answers from now on (200 by default): a 4xx makes team-notify dead-letter
   * the sign-up, a 5xx makes it retry, so a run can show a dead letter and its redrive.
   */
  answerWith(status: number): void;
  close(): Promise<void>;
}

export async function startWebhookSink(
  options: { port?: number; onPost?: (post: WebhookPost) => void } = {},
): Promise<WebhookSink> {
  const posts: WebhookPost[] = [];
  let status = 200;
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8"));
      } catch {
        res.writeHead(400).end("invalid JSON");
        return;
      }
      if (status !== 200) {
        res.writeHead(status, { "content-type": "text/plain" }).end("refused by the stand-in");
        return;
      }
      const post = { receivedAt: new Date().toISOString(), headers: req.headers, body };
      posts.push(post);
      options.onPost?.(post);
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/team-webhook`,
    posts,
    answerWith: (next) => {
      status = next;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
