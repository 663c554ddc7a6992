/**
 * Secure-by-default invariants of the synthesized stack. Failure modes covered: SNS encrypted under
 * the AWS-managed key (breaks delivery), plaintext transport, a topic able to send to another topic's
 * queues, a function reaching another consumer's queue, bucket prefix, secret or table.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type ConsumerName, consumerNames, consumers, topicNames, topics } from "../../src/topology.ts";
import {
  actionsOf,
  arnOf,
  type CfnTemplate,
  logicalId,
  type PolicyStatement,
  policyStatements,
  props,
  ref,
  resourcesOf,
  resourcesOfType,
  roleStatements,
  type SynthesizedCourier,
  synthCourierStack,
} from "./fixtures.ts";

let synth: SynthesizedCourier;
let json: CfnTemplate;
beforeAll(() => {
  synth = synthCourierStack();
  json = synth.json;
});

const roleOf = (fn: { role?: unknown }) => logicalId((fn as { role: Parameters<typeof logicalId>[0] }).role);
const consumerRole = (name: ConsumerName) => roleOf(synth.courier.consumerFunctions[name].function);
const statementsOf = (roleId: string) => roleStatements(json, roleId).filter((s) => s.Effect === "Allow");
const withActionPrefix = (statements: PolicyStatement[], prefix: string) =>
  statements.filter((s) => actionsOf(s).some((a) => a.startsWith(prefix)));
const text = (value: unknown) => JSON.stringify(value);
const sslDeny = (statement: PolicyStatement) =>
  statement.Effect === "Deny" &&
  text(statement.Condition) === text({ Bool: { "aws:SecureTransport": "false" } });
const policyOf = (type: string, targetKey: string, targetId: string): PolicyStatement[] => {
  const policies = resourcesOfType(json, type).filter(([, p]) =>
    text(p.Properties?.[targetKey]).includes(`"${targetId}"`),
  );
  return policies.flatMap(([, p]) => policyStatements(p));
};

describe("GIVEN the synthesized stack", () => {
  describe.each(topicNames)("WHEN looking at topic %s", (name) => {
    it("THEN it is encrypted with a customer-managed key from this stack, not alias/aws/sns", () => {
      const topic = synth.courier.topics[name];
      expect(props(json, logicalId(topic.topic)).KmsMasterKeyId).toEqual(arnOf(logicalId(topic.masterKey)));
    });

    it("THEN its key lets the SNS service use it (same account only)", () => {
      const key = props(json, logicalId(synth.courier.topics[name].masterKey));
      const statements = (key.KeyPolicy as { Statement: PolicyStatement[] }).Statement;
      const sns = statements.filter((s) => text(s.Principal) === text({ Service: "sns.amazonaws.com" }));
      expect(sns).toHaveLength(1);
      expect(actionsOf(sns[0] as PolicyStatement)).toEqual(
        expect.arrayContaining(["kms:GenerateDataKey*", "kms:Decrypt"]),
      );
      expect(sns[0]?.Condition).toEqual({ StringEquals: { "aws:SourceAccount": { Ref: "AWS::AccountId" } } });
    });

    it("THEN its topic policy refuses requests without TLS and allows nothing", () => {
      const statements = policyOf(
        "AWS::SNS::TopicPolicy",
        "Topics",
        logicalId(synth.courier.topics[name].topic),
      );
      expect(statements.length).toBeGreaterThan(0);
      expect(statements.every(sslDeny)).toBe(true);
    });
  });

  describe.each(consumerNames)("WHEN looking at consumer %s's queues", (name) => {
    const queues = () => synth.courier.consumerQueues[name];

    it("THEN the queue and its DLQ are encrypted with the consumer's customer-managed key", () => {
      const key = arnOf(logicalId(queues().encryptionKey));
      expect(props(json, logicalId(queues().queue)).KmsMasterKeyId).toEqual(key);
      expect(props(json, logicalId(queues().deadLetterQueue)).KmsMasterKeyId).toEqual(key);
    });

    it("THEN the key lets SNS use it only on behalf of the consumer's own topic", () => {
      const key = props(json, logicalId(queues().encryptionKey));
      const statements = (key.KeyPolicy as { Statement: PolicyStatement[] }).Statement;
      const sns = statements.filter((s) => text(s.Principal).includes("sns.amazonaws.com"));
      expect(sns).toHaveLength(1);
      expect(sns[0]?.Condition).toEqual({
        ArnEquals: { "aws:SourceArn": ref(logicalId(synth.courier.topics[consumers[name].topic].topic)) },
      });
    });

    it("THEN the source queue's policy refuses non-TLS access and lets only its own topic send", () => {
      const queueId = logicalId(queues().queue);
      const statements = policyOf("AWS::SQS::QueuePolicy", "Queues", queueId);
      expect(statements.some(sslDeny)).toBe(true);
      const allows = statements.filter((s) => s.Effect === "Allow");
      expect(allows).toEqual([
        {
          Effect: "Allow",
          Principal: { Service: "sns.amazonaws.com" },
          Action: "sqs:SendMessage",
          Resource: arnOf(queueId),
          Condition: {
            ArnEquals: { "aws:SourceArn": ref(logicalId(synth.courier.topics[consumers[name].topic].topic)) },
          },
        },
      ]);
    });

    it("THEN the DLQ's policy refuses non-TLS access and allows no one", () => {
      const statements = policyOf("AWS::SQS::QueuePolicy", "Queues", logicalId(queues().deadLetterQueue));
      expect(statements.length).toBeGreaterThan(0);
      expect(statements.every(sslDeny)).toBe(true);
    });
  });

  describe.each(consumerNames)("WHEN looking at consumer %s's function role", (name) => {
    const own = () => {
      const q = synth.courier.consumerQueues[name];
      return {
        queue: arnOf(logicalId(q.queue)),
        dlq: arnOf(logicalId(q.deadLetterQueue)),
        key: q.encryptionKey,
      };
    };

    it("THEN its SQS rights name only its own queue and DLQ", () => {
      const resources = withActionPrefix(statementsOf(consumerRole(name)), "sqs:").flatMap(resourcesOf);
      expect(resources.length).toBeGreaterThan(0);
      for (const r of resources) expect([own().queue, own().dlq]).toContainEqual(r);
    });

    it("THEN it may change visibility (backoff) and delete on its queue, and send to it only when its topic has tenants (a paused tenant's records wait there)", () => {
      const onQueue = withActionPrefix(statementsOf(consumerRole(name)), "sqs:")
        .filter((s) => resourcesOf(s).some((r) => text(r) === text(own().queue)))
        .flatMap(actionsOf);
      expect(onQueue).toEqual(expect.arrayContaining(["sqs:ChangeMessageVisibility", "sqs:DeleteMessage"]));
      const topic = topics[consumers[name].topic] as { tenant?: unknown; ordering?: unknown };
      if (topic.tenant !== undefined && topic.ordering === undefined) {
        expect(onQueue).toEqual(expect.arrayContaining(["sqs:SendMessage", "sqs:ListQueueTags"]));
      } else {
        expect(onQueue).not.toContain("sqs:SendMessage");
        expect(onQueue).not.toContain("sqs:ListQueueTags");
      }
    });

    it("THEN it may send to its DLQ (permanent failures with their reason)", () => {
      const onDlq = withActionPrefix(statementsOf(consumerRole(name)), "sqs:")
        .filter((s) => resourcesOf(s).some((r) => text(r) === text(own().dlq)))
        .flatMap(actionsOf);
      expect(onDlq).toContain("sqs:SendMessage");
      expect(onDlq).not.toContain("sqs:ReceiveMessage");
    });

    it("THEN its KMS rights name only its own queues' key", () => {
      const resources = withActionPrefix(statementsOf(consumerRole(name)), "kms:").flatMap(resourcesOf);
      expect(resources.length).toBeGreaterThan(0);
      for (const r of resources) expect(r).toEqual(arnOf(logicalId(own().key)));
    });
  });

  it("THEN the verification secret is readable by the verification and password reset emailers only", () => {
    const secret = ref(logicalId(synth.courier.secret("verification")));
    const readers = resourcesOfType(json, "AWS::IAM::Role")
      .map(([id]) => id)
      .filter((roleId) =>
        withActionPrefix(statementsOf(roleId), "secretsmanager:").some((s) =>
          resourcesOf(s).some((r) => text(r) === text(secret)),
        ),
      );
    expect(readers.sort()).toEqual(
      [
        consumerRole("verification-email"),
        consumerRole("verification-sms"),
        consumerRole("password-reset-email"),
      ].sort(),
    );
    const anySecretAccess = resourcesOfType(json, "AWS::IAM::Role")
      .map(([id]) => id)
      .filter((roleId) => withActionPrefix(statementsOf(roleId), "secretsmanager:").length > 0);
    expect(anySecretAccess.sort()).toEqual(readers.sort());
  });

  it("THEN the verification secret is generated, not written in the template", () => {
    const secret = props(json, logicalId(synth.courier.secret("verification")));
    expect(secret.GenerateSecretString).toBeDefined();
    expect(secret.SecretString).toBeUndefined();
  });

  it("THEN only the sign-up and password-reset consumers may use the idempotency table", () => {
    const table = arnOf(logicalId(synth.idempotencyTable));
    const audit = arnOf(logicalId(synth.stack.auditTable));
    const users = resourcesOfType(json, "AWS::IAM::Role")
      .map(([id]) => id)
      .filter((roleId) => withActionPrefix(statementsOf(roleId), "dynamodb:").length > 0);
    const once = consumerNames
      .filter((n) => consumers[n].topic === "account-signups" || consumers[n].topic === "password-resets")
      .map(consumerRole);
    expect(once).toHaveLength(5);
    expect(users.sort()).toEqual(once.sort());
    for (const roleId of once) {
      const statements = withActionPrefix(statementsOf(roleId), "dynamodb:");
      expect(statements.flatMap(actionsOf)).toEqual(
        expect.arrayContaining(["dynamodb:GetItem", "dynamodb:PutItem"]),
      );
      const allowed = roleId === consumerRole("security-audit") ? [text(table), text(audit)] : [text(table)];
      for (const r of statements.flatMap(resourcesOf)) expect(allowed).toContain(text(r));
    }
  });

  it("THEN only security-audit may write the audit trail, and only by PutItem (append)", () => {
    const audit = text(arnOf(logicalId(synth.stack.auditTable)));
    const writers = resourcesOfType(json, "AWS::IAM::Role")
      .map(([id]) => id)
      .filter((roleId) =>
        withActionPrefix(statementsOf(roleId), "dynamodb:").some((s) =>
          resourcesOf(s).some((r) => text(r) === audit),
        ),
      );
    expect(writers).toEqual([consumerRole("security-audit")]);
    const actions = withActionPrefix(statementsOf(consumerRole("security-audit")), "dynamodb:")
      .filter((s) => resourcesOf(s).some((r) => text(r) === audit))
      .flatMap(actionsOf);
    expect(actions).toEqual(["dynamodb:PutItem"]);
  });

  describe("WHEN looking at the thumbnails function's bucket rights", () => {
    const bucketArn = () => arnOf(logicalId(synth.stack.uploadsBucket));
    const objectArn = (prefix: string) => ({ "Fn::Join": ["", [bucketArn(), `/${prefix}`]] });
    const s3Statements = () => withActionPrefix(statementsOf(consumerRole("thumbnails")), "s3:");

    it("THEN it may read originals/*", () => {
      const reads = s3Statements().filter((s) => actionsOf(s).includes("s3:GetObject"));
      expect(reads.flatMap(resourcesOf)).toContainEqual(objectArn("originals/*"));
    });

    it("THEN it may put objects only under renditions/*", () => {
      const puts = s3Statements().filter((s) => actionsOf(s).some((a) => a.startsWith("s3:Put")));
      expect(puts.length).toBeGreaterThan(0);
      for (const r of puts.flatMap(resourcesOf)) expect(r).toEqual(objectArn("renditions/*"));
    });

    it("THEN it may delete nothing and reach no object outside originals/* and renditions/*", () => {
      const actions = s3Statements().flatMap(actionsOf);
      expect(actions.filter((a) => a.startsWith("s3:Delete"))).toEqual([]);
      const objectResources = s3Statements()
        .flatMap(resourcesOf)
        .filter((r) => text(r) !== text(bucketArn()));
      for (const r of objectResources)
        expect([objectArn("originals/*"), objectArn("renditions/*")]).toContainEqual(r);
    });

    it("THEN no other role may touch the bucket but account-export, which may only put objects under exports/*", () => {
      const touches = (roleId: string) =>
        withActionPrefix(statementsOf(roleId), "s3:").some((s) =>
          resourcesOf(s).some((r) => text(r).includes(text(bucketArn()))),
        );
      const others = resourcesOfType(json, "AWS::IAM::Role")
        .map(([id]) => id)
        .filter((roleId) => roleId !== consumerRole("thumbnails"))
        .filter(touches);
      expect(others).toEqual([consumerRole("account-export")]);
      const exportRights = withActionPrefix(statementsOf(consumerRole("account-export")), "s3:").filter((s) =>
        resourcesOf(s).some((r) => text(r).includes(text(bucketArn()))),
      );
      for (const s of exportRights) {
        for (const a of actionsOf(s)) expect(a.startsWith("s3:Put") || a === "s3:Abort*").toBe(true);
        expect(resourcesOf(s)).toEqual([objectArn("exports/*")]);
      }
      expect(exportRights.flatMap(actionsOf)).toContain("s3:PutObject");
    });
  });

  it("THEN verification-email may send mail only as the configured sender", () => {
    const ses = withActionPrefix(statementsOf(consumerRole("verification-email")), "ses:");
    expect(ses).toHaveLength(1);
    expect(ses[0]?.Condition).toEqual({
      StringEquals: { "ses:FromAddress": "no-reply@courier.example.com" },
    });
  });

  it("THEN verification-sms may publish SMS but is denied publishing to any topic", () => {
    const statements = roleStatements(json, consumerRole("verification-sms"));
    const deny = statements.find((s) => s.Effect === "Deny" && actionsOf(s).includes("sns:Publish"));
    expect(text(deny?.Resource)).toContain(":sns:*:*:*");
    const otherPublishers = consumerNames
      .filter((n) => n !== "verification-sms")
      .filter((n) => withActionPrefix(statementsOf(consumerRole(n)), "sns:").length > 0);
    expect(otherPublishers).toEqual([]);
  });

  describe("WHEN looking at the redrive function's role", () => {
    const redriveRole = () => roleOf(synth.courier.redrive.function);
    const pairs = () =>
      consumerNames.map((n) => ({
        queue: arnOf(logicalId(synth.courier.consumerQueues[n].queue)),
        dlq: arnOf(logicalId(synth.courier.consumerQueues[n].deadLetterQueue)),
        subscriptionDlq: arnOf(logicalId(synth.courier.consumerQueues[n].subscriptionDeadLetterQueue)),
      }));
    const actionsOn = (arn: unknown) =>
      withActionPrefix(statementsOf(redriveRole()), "sqs:")
        .filter((s) => resourcesOf(s).some((r) => text(r) === text(arn)))
        .flatMap(actionsOf);

    it("THEN it may receive, delete and run message move tasks on every DLQ", () => {
      for (const { dlq } of pairs()) {
        expect(actionsOn(dlq)).toEqual(
          expect.arrayContaining([
            "sqs:ReceiveMessage",
            "sqs:DeleteMessage",
            "sqs:StartMessageMoveTask",
            "sqs:ListMessageMoveTasks",
            "sqs:CancelMessageMoveTask",
          ]),
        );
        expect(actionsOn(dlq)).not.toContain("sqs:SendMessage");
      }
    });

    it("THEN it may send to every source queue but neither receive from nor delete on one", () => {
      for (const { queue } of pairs()) {
        expect(actionsOn(queue)).toContain("sqs:SendMessage");
        expect(actionsOn(queue)).not.toContain("sqs:ReceiveMessage");
        expect(actionsOn(queue)).not.toContain("sqs:DeleteMessage");
      }
    });

    it("THEN it may receive and delete on every subscription DLQ, and not send to one", () => {
      for (const { subscriptionDlq } of pairs()) {
        expect(actionsOn(subscriptionDlq)).toEqual(
          expect.arrayContaining(["sqs:ReceiveMessage", "sqs:DeleteMessage"]),
        );
        expect(actionsOn(subscriptionDlq)).not.toContain("sqs:SendMessage");
      }
    });

    it("THEN its SQS rights name no queue outside the topology's DLQ/source pairs and subscription DLQs", () => {
      const allowed = pairs().flatMap((p) => [p.queue, p.dlq, p.subscriptionDlq]);
      const resources = withActionPrefix(statementsOf(redriveRole()), "sqs:").flatMap(resourcesOf);
      for (const r of resources) expect(allowed).toContainEqual(r);
    });

    it("THEN its environment maps each consumer to its queue and DLQ URLs and ARNs, its subscription DLQ URL and maxReceiveCount", () => {
      const fn = props(json, logicalId(synth.courier.redrive.function));
      const value = (fn.Environment as { Variables: Record<string, unknown> }).Variables
        .COURIER_REDRIVE_PAIRS;
      const expected = Object.fromEntries(
        consumerNames.map((n) => {
          const q = logicalId(synth.courier.consumerQueues[n].queue);
          const d = logicalId(synth.courier.consumerQueues[n].deadLetterQueue);
          const s = logicalId(synth.courier.consumerQueues[n].subscriptionDeadLetterQueue);
          return [
            n,
            {
              queueUrl: ref(q),
              dlqUrl: ref(d),
              queueArn: arnOf(q),
              dlqArn: arnOf(d),
              subscriptionDlqUrl: ref(s),
              maxReceiveCount: consumers[n].maxReceiveCount,
            },
          ];
        }),
      );
      expect(parseJoinedJson(value)).toEqual(expected);
    });
  });
});

/** Reads a JSON document that CloudFormation assembles with Fn::Join, keeping the tokens as objects. */
function parseJoinedJson(value: unknown): unknown {
  const parts = (value as { "Fn::Join": [string, unknown[]] })["Fn::Join"][1];
  const tokens: unknown[] = [];
  const source = parts
    .map((part) => {
      if (typeof part === "string") return part;
      tokens.push(part);
      return `@token${tokens.length - 1}@`;
    })
    .join("");
  return JSON.parse(source, (_key, v: unknown) => {
    const m = typeof v === "string" ? /^@token(\d+)@$/.exec(v) : null;
    return m ? tokens[Number(m[1])] : v;
  });
}
