/** The archiver's settings, as the CDK construct and the local worker set them. */
export const ARCHIVE_ENV = {
  bucket: "COURIER_ARCHIVE_BUCKET",
  topic: "COURIER_ARCHIVE_TOPIC",
  subject: "COURIER_ARCHIVE_SUBJECT",
} as const;

export interface ArchiverConfig {
  readonly bucket: string;
  readonly topic: string;
  readonly subject?: string;
}

export function archiverConfigFromEnv(env: NodeJS.ProcessEnv): ArchiverConfig {
  const bucket = env[ARCHIVE_ENV.bucket];
  const topic = env[ARCHIVE_ENV.topic];
  const missing = [!bucket && ARCHIVE_ENV.bucket, !topic && ARCHIVE_ENV.topic].filter(Boolean);
  if (missing.length > 0 || !bucket || !topic) {
    throw new Error(`the archiver needs ${missing.join(" and ")} in its environment`);
  }
  const subject = env[ARCHIVE_ENV.subject];
  return subject ? { bucket, topic, subject } : { bucket, topic };
}
