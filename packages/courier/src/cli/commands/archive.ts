/**
 * `courier archive stats [topic]`: each archived topic's messages, oldest and size (from one listing).
 * `courier archive erase <subject>`: removes a subject's messages (the value of each topic's
 * `archive.subject` field, e.g. an accountId) from every topic that names a subject, and records it
 * on the erasure ledger so no replay sends them again.
 */
import { S3Client } from "@aws-sdk/client-s3";
import type { Command } from "commander";
import { archivedTopics } from "../../deployment/replay-target.ts";
import { archiveStats, eraseSubject } from "../../lib/archive/archive-store.ts";
import { CliError, emit, type OutputOptions } from "../output.ts";
import { commandTarget, deployedTopology, type TargetCliOptions, withTargetOptions } from "../target.ts";

interface ArchiveOptions extends OutputOptions, TargetCliOptions {
  yes?: boolean;
}

function size(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 ** 2) return `${(bytes / 1024).toFixed(1)} KiB`;
  if (bytes < 1024 ** 3) return `${(bytes / 1024 ** 2).toFixed(1)} MiB`;
  return `${(bytes / 1024 ** 3).toFixed(2)} GiB`;
}

export function register(program: Command): void {
  const archive = program.command("archive").description("Each topic's archive (history for courier replay)");

  const stats = archive
    .command("stats")
    .description("Messages, oldest and size of each archived topic")
    .argument("[topic]", "one topic (default: every archived topic)")
    .option("--json", "machine-readable output");
  withTargetOptions(stats).action(async (topic: string | undefined, options: ArchiveOptions) => {
    const where = await commandTarget(options);
    const topology = await deployedTopology(where);
    const s3 = new S3Client(where.config);
    const archived = archivedTopics(topology).filter((a) => !topic || a.topic === topic);
    if (topic && archived.length === 0)
      throw new CliError(`topic "${topic}" keeps no archive in stack "${where.stack}"`);
    const rows = await Promise.all(
      archived.map(async (a) => ({
        ...(await archiveStats({ s3, bucket: a.archive.bucket, topic: a.topic })),
        retentionDays: a.archive.retentionDays,
        ...(a.archive.subject ? { subject: a.archive.subject } : {}),
      })),
    );
    emit(options, { stack: where.stack, topics: rows }, () =>
      rows
        .map(
          (r) =>
            `${r.topic.padEnd(24)} ${String(r.messages).padStart(9)} messages  ${size(r.bytes).padStart(10)}  oldest ${r.oldest ?? "-"}  keeps ${r.retentionDays} d${r.subject ? `  erasable by ${r.subject}` : ""}`,
        )
        .join("\n"),
    );
  });

  const erase = archive
    .command("erase")
    .description("Remove a subject's archived messages (e.g. an account's) and never replay them")
    .argument("<subject>", "the value of the topics' archive.subject field, e.g. an accountId")
    .option("--yes", "erase without asking")
    .option("--json", "machine-readable output");
  withTargetOptions(erase).action(async (subject: string, options: ArchiveOptions) => {
    if (!options.yes) throw new CliError("erasing rewrites the archive and cannot be undone: add --yes", 2);
    const where = await commandTarget(options);
    const topology = await deployedTopology(where);
    const withSubject = archivedTopics(topology).filter((a) => a.archive.subject);
    if (withSubject.length === 0)
      throw new CliError(`no topic of stack "${where.stack}" names an archive subject`);
    const bucket = withSubject[0]?.archive.bucket as string;
    const result = await eraseSubject(
      new S3Client(where.config),
      bucket,
      withSubject.map((a) => a.topic),
      subject,
    );
    emit(
      options,
      { topics: withSubject.map((a) => a.topic), ...result },
      () =>
        `erased ${result.messagesRemoved} message(s) from ${result.objectsRewritten} of ${result.objectsScanned} archive object(s) of ${withSubject.map((a) => a.topic).join(", ")}${result.payloadsDeleted > 0 ? `, and ${result.payloadsDeleted} offloaded payload(s)` : ""}; ledger ${result.subjectHash.slice(0, 12)}…`,
    );
  });
}
