/** Argument checks shared by the eval modules, with the house's message shape. */
import { posaplError } from '../errors';

/** Throws POSAPL_TYPE unless n is a positive integer. */
export function checkCount(n: unknown, name: string): void {
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 1) {
    throw posaplError('POSAPL_TYPE', `Expected positive integer for ${name} but received ${String(n)}`);
  }
}

/** Checks a typed array's kind by name (jest realms differ) and its length. */
export function checkTyped(a: unknown, kind: string, length: number, name: string, shape: string): void {
  if (!ArrayBuffer.isView(a) || (a as object).constructor.name !== kind) {
    const got = ArrayBuffer.isView(a) ? (a as object).constructor.name : a === null ? 'null' : typeof a;
    throw posaplError('POSAPL_TYPE', `Expected ${kind} ${shape} for ${name} but received ${got}`);
  }
  if ((a as Float32Array).length !== length) {
    throw posaplError('POSAPL_SHAPE', `Expected ${kind} of length ${length} ${shape} for ${name} but received length ${(a as Float32Array).length}`);
  }
}
