import * as z from "zod/mini";
import "../zod-locale.ts";
import { type Envelope, envelopeHeaderSchema } from "./envelope.ts";

/** SNS message attributes are strings here: filter policies match on them. */
export type MessageAttributeValues = Record<string, string>;

/**
 * One message kind at one version. Compatible changes (a new optional field) stay in a version;
 * a breaking change is a new contract with version + 1, and consumers accept both while migrating.
 * `data` is a zod schema, classic (`import * as z from "zod"`) or mini (`zod/mini`): courier parses
 * it with zod's functions, which take either.
 */
export interface MessageContract<
  TType extends string,
  TVersion extends number,
  TData extends z.core.$ZodType,
> {
  readonly type: TType;
  readonly version: TVersion;
  readonly data: TData;
  readonly envelope: z.ZodMiniType<Envelope<TType, TVersion, z.output<TData>>>;
  /** Message attributes derived from the data, for subscription filter policies. */
  readonly filterAttributes: (data: z.output<TData>) => MessageAttributeValues;
  /** Names of the attributes `filterAttributes` sets, so the CDK can check filter policies. */
  readonly filterAttributeNames: readonly string[];
}

// biome-ignore lint/suspicious/noExplicitAny: a registry holds contracts of every data shape.
export type AnyContract = MessageContract<string, number, any>;

export type ContractData<C extends AnyContract> = z.output<C["data"]>;
export type ContractEnvelope<C extends AnyContract> = Envelope<C["type"], C["version"], ContractData<C>>;

export function defineContract<
  TType extends string,
  TVersion extends number,
  TData extends z.core.$ZodType,
>(spec: {
  type: TType;
  version: TVersion;
  data: TData;
  filterAttributes?: (data: z.output<TData>) => MessageAttributeValues;
  filterAttributeNames?: readonly string[];
}): MessageContract<TType, TVersion, TData> {
  const envelope = z.extend(envelopeHeaderSchema, {
    type: z.literal(spec.type),
    version: z.literal(spec.version),
    data: spec.data,
  }) as unknown as z.ZodMiniType<Envelope<TType, TVersion, z.output<TData>>>;
  return {
    type: spec.type,
    version: spec.version,
    data: spec.data,
    envelope,
    filterAttributes: spec.filterAttributes ?? (() => ({})),
    filterAttributeNames: spec.filterAttributeNames ?? [],
  };
}
