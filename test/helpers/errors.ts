/** Checks that a call throws an Error with `code` whose message names the argument `name`. */
export function expectError(fn: () => void, code: string, name: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  expect((caught as { code?: string } | undefined)?.code).toBe(code);
  expect((caught as Error).message).toMatch(new RegExp(`\\b${name}\\b`));
}
