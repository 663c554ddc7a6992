/**
 * Ctrl-C for a command that moves messages in batches (redrive, replay): the first stops after the
 * batch in hand (its `signal` aborts), a second exits at once. `release()` removes the handler.
 */
export function stopOnInterrupt(): { readonly signal: AbortSignal; release(): void } {
  const controller = new AbortController();
  const onInterrupt = () => {
    if (controller.signal.aborted) process.exit(130);
    controller.abort();
    process.stderr.write("\nstopping after the current batch (Ctrl-C again to exit at once)\n");
  };
  process.on("SIGINT", onInterrupt);
  return { signal: controller.signal, release: () => process.off("SIGINT", onInterrupt) };
}
