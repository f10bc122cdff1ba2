/** How the commands report an error: one clear line on stderr and an exit code by kind. */

/** 2 for usage errors (bad options), 1 for everything else (bad data, missing files, ...). */
export function exitCodeOf(error: unknown): number {
  return (error as { code?: string })?.code === 'POSAPL_USAGE' ? 2 : 1;
}

export function reportError(command: string, error: unknown): void {
  const e = error as { code?: string; message?: string; stack?: string };
  const known = typeof e?.code === 'string' && e.code.startsWith('POSAPL_');
  // Our own errors carry a message that names the file, field or argument; anything else is a
  // bug worth its stack.
  process.stderr.write(`${command}: ${known ? e.message : e?.stack ?? String(error)}\n`);
}

/**
 * Runs a command's main: sets the exit code from its result or error, and treats an event loop
 * that empties before main settles (work lost somewhere) as a failure rather than a silent 0.
 */
export function runCommand(command: string, main: () => Promise<number>): void {
  let settled = false;
  process.once('beforeExit', () => {
    if (settled) return;
    process.stderr.write(`${command}: internal error: the run stopped before it finished (pending work was lost)\n`);
    process.exitCode = 1;
  });
  main().then(
    (code) => {
      settled = true;
      process.exitCode = code;
    },
    (error) => {
      settled = true;
      reportError(command, error);
      process.exitCode = exitCodeOf(error);
    },
  );
}
