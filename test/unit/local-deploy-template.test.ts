// biome-ignore-all lint/suspicious/noTemplateCurlyInString: the strings are CloudFormation Fn::Sub templates.
import { describe, expect, it } from "vitest";
import {
  type CfnTemplate,
  localTableName,
  localTemplate,
  referencedIds,
} from "../../src/dev/local-template.ts";

const queue = { Type: "AWS::SQS::Queue", Properties: {} };

function removedIds(template: CfnTemplate): string[] {
  return localTemplate(template)
    .removed.map((r) => r.logicalId)
    .sort();
}

describe("local template: what LocalStack cannot run is left out", () => {
  it.each([
    "AWS::Lambda::Function",
    "AWS::Lambda::EventSourceMapping",
    "AWS::DynamoDB::Table",
    "AWS::CloudFormation::CustomResource",
    "Custom::LogRetention",
    "AWS::CDK::Metadata",
  ])("GIVEN a %s WHEN transformed THEN it is removed as unsupported", (type) => {
    const result = localTemplate({ Resources: { Thing: { Type: type }, Queue: queue } });
    expect(result.template.Resources).toEqual({ Queue: queue });
    expect(result.removed).toEqual([{ logicalId: "Thing", type, reason: { kind: "unsupported", type } }]);
  });

  it("GIVEN supported resources only WHEN transformed THEN nothing is removed and the template is unchanged", () => {
    const template: CfnTemplate = {
      Resources: {
        Topic: { Type: "AWS::SNS::Topic" },
        Queue: queue,
        Sub: {
          Type: "AWS::SNS::Subscription",
          Properties: { TopicArn: { Ref: "Topic" }, Endpoint: { "Fn::GetAtt": ["Queue", "Arn"] } },
        },
      },
      Outputs: { QueueUrl: { Value: { Ref: "Queue" } } },
    };
    const result = localTemplate(template);
    expect(result.removed).toEqual([]);
    expect(result.template).toEqual(template);
  });

  it("GIVEN the bootstrap version parameter and its rule WHEN transformed THEN both are removed", () => {
    const result = localTemplate({
      Parameters: {
        BootstrapVersion: { Type: "AWS::SSM::Parameter::Value<String>" },
        Other: { Type: "String" },
      },
      Rules: {
        CheckBootstrapVersion: {
          Assertions: [{ Assert: { "Fn::Not": [{ "Fn::Contains": [["1"], { Ref: "BootstrapVersion" }] }] } }],
        },
      },
      Resources: { Queue: queue },
    });
    expect(result.template.Parameters).toEqual({ Other: { Type: "String" } });
    expect(result.template.Rules).toBeUndefined();
    expect(result.removed.map((r) => `${r.type}:${r.logicalId}`)).toEqual([
      "Parameter:BootstrapVersion",
      "Rule:CheckBootstrapVersion",
    ]);
  });

  it("GIVEN a raised queue and topic size (a number, as CDK writes it) WHEN transformed THEN it is passed as a string, which LocalStack's CloudFormation hands on to SQS/SNS unconverted", () => {
    const source: CfnTemplate = {
      Resources: {
        Queue: {
          Type: "AWS::SQS::Queue",
          Properties: { MaximumMessageSize: 1048576, VisibilityTimeout: 180 },
        },
        Topic: { Type: "AWS::SNS::Topic", Properties: { MaximumMessageSize: 1048576 } },
        Other: { Type: "AWS::S3::Bucket", Properties: { MaximumMessageSize: 5 } },
      },
    };
    const { template, removed } = localTemplate(source);
    expect(removed).toEqual([]);
    expect(template.Resources.Queue?.Properties).toEqual({
      MaximumMessageSize: "1048576",
      VisibilityTimeout: 180,
    });
    expect(template.Resources.Topic?.Properties).toEqual({ MaximumMessageSize: "1048576" });
    expect(template.Resources.Other?.Properties).toEqual({ MaximumMessageSize: 5 });
    expect(source.Resources.Queue?.Properties?.MaximumMessageSize).toBe(1048576);
  });

  it("GIVEN the input template WHEN transformed THEN the input is not modified", () => {
    const template: CfnTemplate = { Resources: { Fn: { Type: "AWS::Lambda::Function" }, Queue: queue } };
    const copy = structuredClone(template);
    localTemplate(template);
    expect(template).toEqual(copy);
  });
});

describe("local template: the cascade removes whatever refers to a removed resource", () => {
  it("GIVEN a resource with a Ref to a function WHEN transformed THEN it is removed, naming the function", () => {
    const result = localTemplate({
      Resources: {
        Fn: { Type: "AWS::Lambda::Function" },
        Permission: { Type: "AWS::Lambda::Permission", Properties: { FunctionName: { Ref: "Fn" } } },
      },
    });
    expect(result.removed[1]).toEqual({
      logicalId: "Permission",
      type: "AWS::Lambda::Permission",
      reason: { kind: "references", removed: "Fn" },
    });
  });

  it("GIVEN Fn::GetAtt in array and in string form WHEN transformed THEN both referrers are removed", () => {
    expect(
      removedIds({
        Resources: {
          Table: { Type: "AWS::DynamoDB::Table" },
          ArrayForm: {
            Type: "AWS::IAM::Policy",
            Properties: { Resource: { "Fn::GetAtt": ["Table", "Arn"] } },
          },
          StringForm: { Type: "AWS::IAM::Policy", Properties: { Resource: { "Fn::GetAtt": "Table.Arn" } } },
          Queue: queue,
        },
      }),
    ).toEqual(["ArrayForm", "StringForm", "Table"]);
  });

  it("GIVEN Fn::Sub strings naming a removed resource WHEN transformed THEN the referrer is removed", () => {
    expect(
      removedIds({
        Resources: {
          Fn: { Type: "AWS::Lambda::Function" },
          LogGroup: {
            Type: "AWS::Logs::LogGroup",
            Properties: { LogGroupName: { "Fn::Sub": "/aws/lambda/${Fn}" } },
          },
          Alarm: {
            Type: "AWS::CloudWatch::Alarm",
            Properties: { AlarmName: { "Fn::Sub": ["${Name}-errors-${Fn.Arn}", { Name: "x" }] } },
          },
        },
      }),
    ).toEqual(["Alarm", "Fn", "LogGroup"]);
  });

  it("GIVEN Fn::Sub with pseudo parameters, escapes and its own variables WHEN transformed THEN nothing cascades", () => {
    expect(
      removedIds({
        Resources: {
          Fn: { Type: "AWS::Lambda::Function" },
          Queue: {
            Type: "AWS::SQS::Queue",
            Properties: {
              QueueName: { "Fn::Sub": ["${AWS::StackName}-${!Fn}-${Fn}", { Fn: "not-the-function" }] },
            },
          },
        },
      }),
    ).toEqual(["Fn"]);
  });

  it("GIVEN a DependsOn (string or list) on a removed resource WHEN transformed THEN the dependent is removed", () => {
    expect(
      removedIds({
        Resources: {
          Fn: { Type: "AWS::Lambda::Function" },
          One: { Type: "AWS::SQS::Queue", DependsOn: "Fn" },
          Many: { Type: "AWS::SQS::Queue", DependsOn: ["Queue", "Fn"] },
          Queue: queue,
        },
      }),
    ).toEqual(["Fn", "Many", "One"]);
  });

  it("GIVEN a chain A <- B <- C WHEN A is removed THEN C goes too, whatever the declaration order", () => {
    const result = localTemplate({
      Resources: {
        C: { Type: "AWS::SQS::QueuePolicy", Properties: { Queues: [{ Ref: "B" }] } },
        B: { Type: "AWS::SQS::Queue", Properties: { Tag: { "Fn::GetAtt": ["A", "Arn"] } } },
        A: { Type: "Custom::Thing" },
        Kept: queue,
      },
    });
    expect(Object.keys(result.template.Resources)).toEqual(["Kept"]);
    expect(result.removed.find((r) => r.logicalId === "C")?.reason).toEqual({
      kind: "references",
      removed: "B",
    });
  });

  it("GIVEN outputs referring to removed and kept resources WHEN transformed THEN only the former are removed", () => {
    const result = localTemplate({
      Resources: { Fn: { Type: "AWS::Lambda::Function" }, Queue: queue },
      Outputs: {
        FunctionArn: { Value: { "Fn::GetAtt": ["Fn", "Arn"] } },
        QueueUrl: { Value: { Ref: "Queue" } },
      },
    });
    expect(result.template.Outputs).toEqual({ QueueUrl: { Value: { Ref: "Queue" } } });
    expect(result.removed.at(-1)).toEqual({
      logicalId: "FunctionArn",
      type: "Output",
      reason: { kind: "references", removed: "Fn" },
    });
  });

  it("GIVEN every output removed WHEN transformed THEN the Outputs section is dropped, not left empty", () => {
    const result = localTemplate({
      Resources: { Fn: { Type: "AWS::Lambda::Function" }, Queue: queue },
      Outputs: { FunctionArn: { Value: { Ref: "Fn" } } },
    });
    expect(result.template.Outputs).toBeUndefined();
  });
});

describe("local template: outputs keep their place, with removed resources stood in for", () => {
  const source: CfnTemplate = {
    Resources: {
      Fn: { Type: "AWS::Lambda::Function" },
      Mapping: { Type: "AWS::Lambda::EventSourceMapping" },
      Table: { Type: "AWS::DynamoDB::Table" },
      Queue: queue,
    },
    Outputs: {
      Manifest: {
        Value: {
          "Fn::Join": [
            "",
            [
              '{"queueUrl":"',
              { Ref: "Queue" },
              '","functionName":"',
              { Ref: "Fn" },
              '","mappingId":"',
              { Ref: "Mapping" },
              '","table":"',
              { Ref: "Table" },
              '","tableArn":"',
              { "Fn::GetAtt": ["Table", "Arn"] },
              '"}',
            ],
          ],
        },
      },
      TableName: { Value: { Ref: "Table" } },
      Described: { Value: { "Fn::Sub": "${Queue}|${Fn.Arn}|${Table}|${!Fn}" } },
    },
  };

  it('GIVEN a manifest output naming a function, a mapping and a table WHEN transformed THEN function and mapping become "" and the table its local name', () => {
    const { template, removed } = localTemplate(source, { stackName: "acme-orders" });
    expect(template.Outputs?.Manifest?.Value).toEqual({
      "Fn::Join": [
        "",
        [
          '{"queueUrl":"',
          { Ref: "Queue" },
          '","functionName":"',
          "",
          '","mappingId":"',
          "",
          '","table":"',
          localTableName("acme-orders", "Table"),
          '","tableArn":"',
          "",
          '"}',
        ],
      ],
    });
    expect(removed.filter((r) => r.type === "Output")).toEqual([]);
  });

  it("GIVEN an output that is only a table's Ref WHEN transformed THEN it is the local table's name", () => {
    const { template } = localTemplate(source, { stackName: "acme-orders" });
    expect(template.Outputs?.TableName).toEqual({ Value: "acme-orders-Table" });
  });

  it("GIVEN Fn::Sub naming removed resources WHEN transformed THEN those are replaced, kept ones and escapes left", () => {
    const { template } = localTemplate(source, { stackName: "acme-orders" });
    expect(template.Outputs?.Described).toEqual({
      Value: { "Fn::Sub": "${Queue}||acme-orders-Table|${!Fn}" },
    });
  });
});

describe("referencedIds", () => {
  it("GIVEN Refs to pseudo parameters WHEN collected THEN they are not logical ids", () => {
    expect([...referencedIds({ a: { Ref: "AWS::Region" }, b: { Ref: "Queue" } })]).toEqual(["Queue"]);
  });

  it("GIVEN references nested in Fn::Join inside a list WHEN collected THEN every one is found", () => {
    const ids = referencedIds({ "Fn::Join": ["", [{ Ref: "A" }, ":", { "Fn::GetAtt": ["B", "Arn"] }]] });
    expect([...ids].sort()).toEqual(["A", "B"]);
  });
});
