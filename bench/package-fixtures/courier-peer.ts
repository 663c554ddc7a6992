// The cold-start peer's work written with courier: the same sign-up consumer as powertools-peer.ts
// (validate the NewAccount envelope, send one SES email, a metric and a log line per record), no
// idempotency and no secret, so its row in bench/cold-start.bench.ts measures courier's runtime
// (defineConsumer, decoding, reasons, EMF metrics, traces) against Powertools' doing the same
// work, apart from the clients the example's consumers need.
import { SESClient, SendEmailCommand } from "@aws-sdk/client-ses";
import { defineConsumer, defineTopology, tracedClient } from "@courier-queue/courier";
import { NewAccountV1Contract } from "../../src/app/contracts/new-account.ts";

const topology = defineTopology({
  topics: { "account-signups": { description: "sign-ups", current: NewAccountV1Contract } },
  consumers: {
    "verification-email": {
      description: "the peer's work",
      topic: "account-signups",
      handlerEntry: "bench/package-fixtures/courier-peer.ts",
    },
  },
});

const ses = tracedClient("verification-email", new SESClient({}));

export const handler = defineConsumer(topology, {
  name: "verification-email",
  handle: async (message, ctx) => {
    await ses.send(
      new SendEmailCommand({
        Source: "peer@example.com",
        Destination: { ToAddresses: [message.data.email] },
        Message: { Subject: { Data: "Verify" }, Body: { Text: { Data: "code" } } },
      }),
    );
    ctx.logger.info("verification email sent", { accountId: message.data.accountId });
  },
});
