/**
 * Least privilege held as a whole, beside the per-service checks in courier-stack-security.test.ts:
 * every Allow statement of every function role is held against the list of what that function
 * owns, so a right on a new service or another consumer's resource fails here even when no
 * per-service test looks at it. And every queue and topic in the template (not only the ones the
 * topology names) is encrypted and refuses plaintext transport.
 *
 * Failure modes covered: a grant on a resource the function does not own; a service wildcard
 * (`sqs:*`, `*`); `Resource: "*"` anywhere but the SMS publish and X-Ray's segment writes; the AWS managed basic-execution
 * policy (logs on every group of the account) coming back; a role another principal may assume;
 * a queue or topic added outside the topology without SSE or TLS enforcement.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { type ConsumerName, consumerNames, consumers, topicNames } from "../../src/topology.ts";
import {
  actionsOf,
  arnOf,
  type CfnTemplate,
  isXrayWriteStatement,
  logicalId,
  type PolicyStatement,
  policyStatements,
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
  synth = synthCourierStack("courier-least-privilege");
  json = synth.json;
});

const text = (value: unknown) => JSON.stringify(value);
const roleIdOf = (fn: { role?: unknown }) => logicalId(fn.role as Parameters<typeof logicalId>[0]);

/** What a consumer's function may name in an Allow statement: its own things, nothing else. */
function ownedBy(name: ConsumerName): unknown[] {
  const q = synth.courier.consumerQueues[name];
  const fn = synth.courier.consumerFunctions[name];
  const owned: unknown[] = [
    arnOf(logicalId(q.queue)),
    arnOf(logicalId(q.deadLetterQueue)),
    arnOf(logicalId(q.encryptionKey)),
    arnOf(logicalId(fn.logGroup)),
  ];
  if (consumers[name].topic === "account-signups" || consumers[name].topic === "password-resets") {
    owned.push(arnOf(logicalId(synth.idempotencyTable)));
  }
  if (name === "security-audit") owned.push(arnOf(logicalId(synth.stack.auditTable)));
  if (name === "verification-email" || name === "verification-sms" || name === "password-reset-email") {
    owned.push(ref(logicalId(synth.courier.secret("verification"))));
  }
  if (name === "thumbnails") {
    const bucket = arnOf(logicalId(synth.stack.uploadsBucket));
    owned.push(
      bucket,
      { "Fn::Join": ["", [bucket, "/originals/*"]] },
      { "Fn::Join": ["", [bucket, "/renditions/*"]] },
    );
  }
  if (name === "account-export") {
    // Writes its files under exports/ of the uploads bucket; reads its topic's payloads, nothing else.
    const uploads = arnOf(logicalId(synth.stack.uploadsBucket));
    const payloads = arnOf(logicalId(synth.payloadBucket.bucket));
    owned.push({ "Fn::Join": ["", [uploads, "/exports/*"]] }, payloads, {
      "Fn::Join": ["", [payloads, "/account-exports/*"]],
    });
  }
  if (name === "verification-email" || name === "password-reset-email") {
    owned.push({
      "Fn::Join": [
        "",
        [
          "arn:",
          ref("AWS::Partition"),
          ":ses:",
          ref("AWS::Region"),
          ":",
          ref("AWS::AccountId"),
          ":identity/*",
        ],
      ],
    });
  }
  return owned;
}

/** Services each consumer's work needs, besides its queues (sqs, kms) and its logs. */
const SERVICES: Record<ConsumerName, readonly string[]> = {
  "verification-email": ["secretsmanager", "dynamodb", "ses"],
  "verification-sms": ["secretsmanager", "dynamodb", "sns"],
  "team-notify": ["dynamodb"],
  thumbnails: ["s3"],
  "password-reset-email": ["secretsmanager", "dynamodb", "ses"],
  "security-audit": ["dynamodb"],
  "account-export": ["s3"],
};

/** Allow statements, X-Ray's segment writes aside (held exactly in tracing.test.ts). */
const allows = (roleId: string) =>
  roleStatements(json, roleId).filter((s) => s.Effect === "Allow" && !isXrayWriteStatement(s));
const serviceOf = (action: string) => action.split(":")[0] ?? action;

describe("GIVEN the synthesized stack", () => {
  describe.each(consumerNames)("WHEN every Allow statement of consumer %s's role is listed", (name) => {
    const statements = () => allows(roleIdOf(synth.courier.consumerFunctions[name].function));

    it("THEN each names only resources the consumer owns (Resource * only for SMS, which has no ARN)", () => {
      const owned = ownedBy(name);
      const foreign = statements().flatMap((s) =>
        resourcesOf(s)
          .filter((r) => !owned.some((o) => text(o) === text(r)))
          .filter((r) => !(name === "verification-sms" && r === "*" && text(s.Action) === '"sns:Publish"'))
          .map((r) => `${text(s.Action)} on ${text(r)}`),
      );
      expect(foreign).toEqual([]);
    });

    it("THEN each action is of a service its work needs, and none is a service wildcard", () => {
      const allowed = new Set(["sqs", "kms", "logs", ...SERVICES[name]]);
      const actions = statements().flatMap(actionsOf);
      expect(actions.filter((a) => !allowed.has(serviceOf(a)))).toEqual([]);
      expect(actions.filter((a) => a === "*" || a.endsWith(":*"))).toEqual([]);
    });

    it("THEN its logs go to its own log group only, and it cannot create log groups", () => {
      const logs = statements().filter((s) => actionsOf(s).some((a) => a.startsWith("logs:")));
      expect(logs.flatMap(resourcesOf)).toEqual([
        arnOf(logicalId(synth.courier.consumerFunctions[name].logGroup)),
      ]);
      expect(logs.flatMap(actionsOf)).not.toContain("logs:CreateLogGroup");
    });
  });

  describe("WHEN every Allow statement of the redrive function's role is listed", () => {
    it("THEN each names only the topology's queues, DLQs, subscription DLQs, their keys and its own log group", () => {
      const owned: unknown[] = [arnOf(logicalId(synth.courier.redrive.logGroup))];
      for (const name of consumerNames) {
        const q = synth.courier.consumerQueues[name];
        owned.push(
          arnOf(logicalId(q.queue)),
          arnOf(logicalId(q.deadLetterQueue)),
          arnOf(logicalId(q.subscriptionDeadLetterQueue)),
          arnOf(logicalId(q.encryptionKey)),
        );
      }
      const statements = allows(roleIdOf(synth.courier.redrive.function));
      const foreign = statements.flatMap((s) =>
        resourcesOf(s)
          .filter((r) => !owned.some((o) => text(o) === text(r)))
          .map((r) => `${text(s.Action)} on ${text(r)}`),
      );
      expect(foreign).toEqual([]);
      const services = new Set(statements.flatMap(actionsOf).map(serviceOf));
      expect([...services].sort()).toEqual(["kms", "logs", "sqs"]);
    });

    it("THEN it holds no KMS right beyond decrypting DLQ messages and encrypting them for the source queue", () => {
      const kms = allows(roleIdOf(synth.courier.redrive.function))
        .flatMap(actionsOf)
        .filter((a) => a.startsWith("kms:"));
      expect([...new Set(kms)].sort()).toEqual(["kms:Decrypt", "kms:GenerateDataKey"]);
    });
  });

  it("THEN no consumer role may encrypt, re-encrypt or generate data keys beyond what sending to its DLQ needs", () => {
    const kms = consumerNames.flatMap((name) =>
      allows(roleIdOf(synth.courier.consumerFunctions[name].function))
        .flatMap(actionsOf)
        .filter((a) => a.startsWith("kms:")),
    );
    expect([...new Set(kms)].sort()).toEqual(["kms:Decrypt", "kms:GenerateDataKey"]);
  });

  it("THEN every role is assumable by Lambda only and carries no AWS managed policy", () => {
    const roles = resourcesOfType(json, "AWS::IAM::Role");
    // A role per consumer, per topic archiver (every example topic keeps an archive), and redrive's.
    expect(roles.length).toBe(consumerNames.length + topicNames.length + 1);
    for (const [id, role] of roles) {
      const trust =
        (role.Properties?.AssumeRolePolicyDocument as { Statement?: PolicyStatement[] } | undefined)
          ?.Statement ?? [];
      expect(
        trust.map((s) => ({ effect: s.Effect, principal: s.Principal, action: s.Action })),
        id,
      ).toEqual([
        { effect: "Allow", principal: { Service: "lambda.amazonaws.com" }, action: "sts:AssumeRole" },
      ]);
      expect(role.Properties?.ManagedPolicyArns, id).toBeUndefined();
    }
  });

  describe("WHEN every queue and topic in the template is listed (not only the topology's)", () => {
    const sslDeny = (s: PolicyStatement) =>
      s.Effect === "Deny" && text(s.Condition) === text({ Bool: { "aws:SecureTransport": "false" } });
    const policiesOn = (type: string, key: string, id: string) =>
      resourcesOfType(json, type)
        .filter(([, p]) => text(p.Properties?.[key]).includes(`"${id}"`))
        .flatMap(([, p]) => policyStatements(p));

    it("THEN every queue is encrypted with a customer-managed KMS key of this stack and refuses non-TLS access", () => {
      const queues = resourcesOfType(json, "AWS::SQS::Queue");
      expect(queues.length).toBe((consumerNames.length + topicNames.length) * 3);
      for (const [id, queue] of queues) {
        const key = queue.Properties?.KmsMasterKeyId as { "Fn::GetAtt"?: [string, string] } | undefined;
        expect(json.Resources[key?.["Fn::GetAtt"]?.[0] ?? ""]?.Type, id).toBe("AWS::KMS::Key");
        expect(policiesOn("AWS::SQS::QueuePolicy", "Queues", id).some(sslDeny), id).toBe(true);
      }
    });

    it("THEN every topic is encrypted with a customer-managed KMS key of this stack and refuses non-TLS access", () => {
      const topicResources = resourcesOfType(json, "AWS::SNS::Topic");
      expect(topicResources.length).toBeGreaterThan(0);
      for (const [id, topic] of topicResources) {
        const key = topic.Properties?.KmsMasterKeyId as { "Fn::GetAtt"?: [string, string] } | undefined;
        expect(json.Resources[key?.["Fn::GetAtt"]?.[0] ?? ""]?.Type, id).toBe("AWS::KMS::Key");
        expect(policiesOn("AWS::SNS::TopicPolicy", "Topics", id).some(sslDeny), id).toBe(true);
      }
    });

    it("THEN every KMS key rotates", () => {
      for (const [id, key] of resourcesOfType(json, "AWS::KMS::Key")) {
        expect(key.Properties?.EnableKeyRotation, id).toBe(true);
      }
    });
  });
});

describe("GIVEN the thumbnails role", () => {
  it("WHEN its uploads-bucket statements are listed THEN it may list only keys under its own prefixes (failure mode: listing exports/)", () => {
    const bucket = arnOf(logicalId(synth.stack.uploadsBucket));
    const listing = allows(roleIdOf(synth.courier.consumerFunctions.thumbnails.function)).filter((s) =>
      [s.Action].flat().some((a) => String(a).startsWith("s3:List")),
    );
    expect(listing).toEqual([
      expect.objectContaining({
        Action: "s3:ListBucket",
        Resource: bucket,
        Condition: { StringLike: { "s3:prefix": ["originals/*", "renditions/*"] } },
      }),
    ]);
  });
});

describe("GIVEN the idempotency table", () => {
  const tableArn = () => arnOf(logicalId(synth.idempotencyTable));
  const tableStatements = (name: ConsumerName) =>
    allows(roleIdOf(synth.courier.consumerFunctions[name].function)).filter((s) =>
      resourcesOf(s).some((r) => text(r) === text(tableArn())),
    );
  it("WHEN the consumers that use it are listed THEN they are the sign-up and password-reset consumers", () => {
    const users = consumerNames.filter((n) => tableStatements(n).length > 0);
    expect(users.sort()).toEqual(
      consumerNames
        .filter((n) => consumers[n].topic === "account-signups" || consumers[n].topic === "password-resets")
        .sort(),
    );
  });

  it.each(
    consumerNames.filter(
      (n) => consumers[n].topic === "account-signups" || consumers[n].topic === "password-resets",
    ),
  )(
    "WHEN %s's table statements are listed THEN it reaches only keys under its own prefix, and may not Scan or Query (failure mode: five functions could read, scan and delete every record)",
    (name) => {
      const statements = tableStatements(name);
      const actions = statements.flatMap((s) => [s.Action].flat().map(String));
      expect(actions.filter((a) => /Scan|Query|BatchGet|BatchWrite|\*/.test(a))).toEqual([]);
      const prefixes = statements.flatMap(
        (s) =>
          (
            s.Condition as { "ForAllValues:StringLike"?: { "dynamodb:LeadingKeys"?: string[] } } | undefined
          )?.["ForAllValues:StringLike"]?.["dynamodb:LeadingKeys"] ?? ["(no condition)"],
      );
      expect(prefixes.sort()).toEqual(
        [`courier.${name}#*`, ...(name === "verification-sms" ? ["courier.sms-cap#*"] : [])].sort(),
      );
    },
  );
});
