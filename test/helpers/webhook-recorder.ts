/**
 * A stand-in for the team webhook that records the eventId of every post it gets and answers
 * 200, for tests that run team-notify in worker processes and count its deliveries.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export interface WebhookRecorder {
  /** The URL to give team-notify as TEAM_WEBHOOK_URL. */
  readonly url: string;
  /** Every delivered eventId, in arrival order (duplicates kept: tests count them). */
  readonly eventIds: string[];
  close(): Promise<void>;
}

export async function startWebhookRecorder(): Promise<WebhookRecorder> {
  const eventIds: string[] = [];
  const server = createServer((request, response) => {
    let body = "";
    request.on("data", (chunk) => {
      body += chunk;
    });
    request.on("end", () => {
      const eventId = (JSON.parse(body) as { eventId?: string }).eventId;
      if (eventId) eventIds.push(eventId);
      response.end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/team`,
    eventIds,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
