export {
  findXrayTraceIds,
  logsInsightsQuery,
  queryLogLines,
  readXrayTraces,
  spanRecordsFromXray,
  w3cTraceId,
  XRAY_WINDOW_HOURS,
  xrayFilterExpression,
} from "./aws-sources.ts";
export {
  type Attempt,
  type AttemptOutcome,
  buildJourney,
  type Delivery,
  formatJourney,
  type JourneyInput,
  type LogLine,
  type MessageJourney,
  type MessageTrail,
  type Publication,
  type Redrive,
  type SideEffect,
} from "./journey.ts";
export {
  type AttributeValue,
  readSpanFile,
  type SpanKindName,
  type SpanRecord,
  spanRecordsFromOtlp,
} from "./span-record.ts";
export {
  InvalidTraceQueryError,
  logLinesFromText,
  type TraceMessageOptions,
  type TraceSource,
  traceMessage,
} from "./trace-message.ts";
