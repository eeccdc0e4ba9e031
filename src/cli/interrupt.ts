/**
 * Ctrl-C and SIGTERM during a training command: the first signal asks the run to stop after the
 * step in progress (the loop then writes its checkpoint and metrics); its handler is removed at once,
 * so a second signal gets the default action and ends the process immediately. Writes are atomic, so
 * that cannot leave a torn file behind.
 */
export interface Interrupt {
  signal: AbortSignal;
  /** The signal received, if any. */
  received(): NodeJS.Signals | null;
  /** The exit status for it: 130 for SIGINT, 143 for SIGTERM (128 + the signal's number). */
  exitCode(): number;
  /** Removes the handlers (when the command ends normally). */
  dispose(): void;
}

export function onInterrupt(say: (line: string) => void): Interrupt {
  const controller = new AbortController();
  let got: NodeJS.Signals | null = null;
  const handler = (sig: NodeJS.Signals) => {
    got = sig;
    dispose();
    say(`${sig}: stopping after the step in progress (again to exit at once)`);
    controller.abort();
  };
  const dispose = () => {
    process.off('SIGINT', handler);
    process.off('SIGTERM', handler);
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
  return {
    signal: controller.signal,
    received: () => got,
    exitCode: () => (got === 'SIGTERM' ? 143 : 130),
    dispose,
  };
}
