// A handler with one AWS SDK client, for test/cdk/aws-sdk-bundling.test.ts.
import { SESClient, SendEmailCommand } from "@aws-sdk/client-ses";

const ses = new SESClient({});

export const handler = async () => {
  await ses.send(
    new SendEmailCommand({
      Source: "a@example.com",
      Destination: { ToAddresses: ["b@example.com"] },
      Message: { Subject: { Data: "s" }, Body: { Text: { Data: "b" } } },
    }),
  );
};
