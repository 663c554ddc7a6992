/**
 * What a handler threw, in words, whatever it was. JavaScript lets code throw anything: `throw
 * undefined`, a string, a frozen object, a promise rejected without a reason. The runtime must still
 * fail just that record and say in its reason (and log line) what came out, so nothing here throws.
 */

export interface ThrownDescription {
  /** The Error's class name, or for another value its kind: "undefined", "null", "string", "object", ... */
  readonly errorClass: string;
  readonly message: string;
}

export function describeThrown(value: unknown): ThrownDescription {
  try {
    if (value instanceof Error) {
      return { errorClass: value.name || value.constructor?.name || "Error", message: String(value.message) };
    }
    if (value === undefined) {
      return {
        errorClass: "undefined",
        message: "undefined was thrown (a `throw undefined` or a promise rejected without a reason)",
      };
    }
    if (value === null) return { errorClass: "null", message: "null was thrown" };
    if (typeof value === "string") return { errorClass: "string", message: value };
    if (typeof value === "function") {
      return { errorClass: "function", message: `a function was thrown: ${value.name || "(anonymous)"}` };
    }
    if (typeof value !== "object") return { errorClass: typeof value, message: String(value) };
    // An Error from another realm (vm context, worker) fails instanceof but keeps name and message.
    const { name, message } = value as { name?: unknown; message?: unknown };
    if (typeof name === "string" && typeof message === "string") return { errorClass: name, message };
    return { errorClass: "object", message: printable(value) };
  } catch {
    // A Proxy or a getter that throws: say so rather than fail the invocation.
    return { errorClass: typeof value, message: "an unprintable value was thrown" };
  }
}

function printable(value: object): string {
  try {
    const json = JSON.stringify(value);
    if (json !== undefined) return json;
  } catch {
    // circular or holding a BigInt: fall through to String
  }
  try {
    return String(value);
  } catch {
    return "an unprintable object was thrown"; // Object.create(null) has no toString
  }
}
