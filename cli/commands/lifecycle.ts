/** Keeps a daemon running until SIGINT or SIGTERM, then closes it once. */
export function runUntilSignal(close: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let closing = false;
    const stop = (signal: NodeJS.Signals) => {
      if (closing) return;
      closing = true;
      process.stderr.write(`creditops: ${signal} received, shutting down\n`);
      close().then(resolve, (error: Error) => {
        process.stderr.write(`creditops: error while shutting down: ${error.message}\n`);
        process.exitCode = 1;
        resolve();
      });
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
