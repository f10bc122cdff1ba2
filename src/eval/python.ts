/**
 * Python's float rounding and float repr, so that metrics read exactly as the authors' log
 * prints them (`round(x, 2)` inside a dict printed with repr).
 */

const FLOAT_BITS = new DataView(new ArrayBuffer(8));

/** |x| = mantissa * 2^exponent exactly, for finite x. */
function decompose(x: number): { mantissa: bigint; exponent: number } {
  FLOAT_BITS.setFloat64(0, x);
  const bits = FLOAT_BITS.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & ((1n << 52n) - 1n);
  return biased === 0
    ? { mantissa: fraction, exponent: -1074 }
    : { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}

/**
 * Python's `round(x, ndigits)` for a float: rounds the exact binary value of x to ndigits
 * decimals, ties to even, then takes the nearest double. So round(0.125, 2) = 0.12 (an exact
 * tie) and round(2.675, 2) = 2.67 (2.675 is stored as 2.67499999...).
 */
export function pythonRound(x: number, ndigits: number): number {
  if (!Number.isInteger(ndigits) || ndigits < 0) {
    throw new RangeError(`Expected non-negative integer for ndigits but received ${ndigits}`);
  }
  if (!Number.isFinite(x) || x === 0) return x;
  const { mantissa, exponent } = decompose(x);
  if (exponent >= 0) return x; // an integer already
  // |x| * 10^ndigits = numerator / denominator exactly.
  const numerator = mantissa * 10n ** BigInt(ndigits);
  const denominator = 1n << BigInt(-exponent);
  let quotient = numerator / denominator;
  const twiceRemainder = 2n * (numerator - quotient * denominator);
  if (twiceRemainder > denominator || (twiceRemainder === denominator && (quotient & 1n) === 1n)) quotient += 1n;
  // Parsing the decimal string is correctly rounded, as Python's strtod is.
  return Number(`${x < 0 ? '-' : ''}${quotient}e-${ndigits}`);
}

/** Python's `repr(float)`: shortest round-trip digits, `.0` on integers, exponent form outside [1e-4, 1e16). */
export function pythonFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (!Number.isFinite(x)) return x > 0 ? 'inf' : '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  const sign = x < 0 ? '-' : '';
  // toExponential() without an argument gives the shortest round-trip digits, as Python does.
  const [significand, exp] = Math.abs(x).toExponential().split('e');
  const digits = significand.replace('.', '');
  const e = Number(exp);
  if (e < -4 || e >= 16) {
    const mantissa = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits;
    return `${sign}${mantissa}e${e < 0 ? '-' : '+'}${String(Math.abs(e)).padStart(2, '0')}`;
  }
  if (e < 0) return `${sign}0.${'0'.repeat(-e - 1)}${digits}`;
  const whole = digits.slice(0, e + 1).padEnd(e + 1, '0');
  const fraction = digits.slice(e + 1);
  return `${sign}${whole}.${fraction || '0'}`;
}
