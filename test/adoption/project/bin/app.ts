/**
 * Acme's CDK app: a stack of its own with courier's construct in it, checked by cdk-nag's
 * AwsSolutions pack (synth fails on any finding). The stack's name: -c stackName=..., else
 * ACME_STACK_NAME, else acme-orders. Run by `npx cdk synth` (cdk.json) or as `node bin/app.ts`.
 */
import { fileURLToPath } from "node:url";
import { Courier } from "@courier-queue/courier/cdk";
import { App, Stack, Validations } from "aws-cdk-lib";
import { AwsSolutionsChecks } from "cdk-nag";
import { orders } from "../src/topology.ts";

const app = new App();
const fromContext: unknown = app.node.tryGetContext("stackName");
const stackName =
  typeof fromContext === "string" && fromContext.length > 0
    ? fromContext
    : (process.env.ACME_STACK_NAME ?? "acme-orders");

const stack = new Stack(app, stackName, { description: "Acme's order processing" });
new Courier(stack, "Orders", {
  topology: orders,
  projectRoot: fileURLToPath(new URL("..", import.meta.url)),
});

Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
app.synth();
