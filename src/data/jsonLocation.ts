/**
 * Where JSON text stops being valid. V8's JSON.parse reports a position for some errors and
 * none for others ("Unexpected token 'x', ... is not valid JSON"), so on failure the text is
 * scanned again by this small RFC 8259 syntax checker to name the line and column.
 */

/** A position in text, both counted from 1. */
export interface TextPosition {
  line: number;
  column: number;
}

/** The offset of the first character at which `text` is not valid JSON, or -1 when it is valid. */
export function jsonErrorOffset(text: string): number {
  let i = 0;
  const n = text.length;
  const fail = (): never => {
    throw new SyntaxAt(i);
  };
  const space = (): void => {
    while (i < n && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  };
  const literal = (word: string): void => {
    for (const ch of word) {
      if (text[i] !== ch) fail();
      i++;
    }
  };
  const digits = (): void => {
    if (!(text[i] >= '0' && text[i] <= '9')) fail();
    while (text[i] >= '0' && text[i] <= '9') i++;
  };
  const number = (): void => {
    if (text[i] === '-') i++;
    if (text[i] === '0') i++;
    else digits();
    if (text[i] === '.') {
      i++;
      digits();
    }
    if (text[i] === 'e' || text[i] === 'E') {
      i++;
      if (text[i] === '+' || text[i] === '-') i++;
      digits();
    }
  };
  const string = (): void => {
    i++; // the opening quote
    for (;;) {
      if (i >= n) fail();
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return;
      }
      if (c < 0x20) fail();
      if (c === 0x5c) {
        i++;
        const e = text[i];
        if (e === 'u') {
          for (let k = 1; k <= 4; k++) {
            if (!/[0-9a-fA-F]/.test(text[i + k] ?? '')) {
              i += k;
              fail();
            }
          }
          i += 5;
        } else if (e !== undefined && '"\\/bfnrt'.includes(e)) {
          i++;
        } else {
          fail();
        }
      } else {
        i++;
      }
    }
  };
  // Containers are walked with an explicit stack so deep nesting cannot overflow the call stack.
  const value = (): void => {
    const stack: string[] = [];
    for (;;) {
      space();
      const c = text[i];
      if (c === '{') {
        i++;
        space();
        if (text[i] === '}') {
          i++;
        } else {
          if (text[i] !== '"') fail();
          string();
          space();
          if (text[i] !== ':') fail();
          i++;
          stack.push('}');
          continue;
        }
      } else if (c === '[') {
        i++;
        space();
        if (text[i] === ']') {
          i++;
        } else {
          stack.push(']');
          continue;
        }
      } else if (c === '"') {
        string();
      } else if (c === 't') {
        literal('true');
      } else if (c === 'f') {
        literal('false');
      } else if (c === 'n') {
        literal('null');
      } else if (c === '-' || (c >= '0' && c <= '9')) {
        number();
      } else {
        fail();
      }
      // A value is complete: close containers or move to the next element.
      for (;;) {
        if (stack.length === 0) return;
        space();
        const close = stack[stack.length - 1];
        if (text[i] === close) {
          i++;
          stack.pop();
          continue;
        }
        if (text[i] !== ',') fail();
        i++;
        if (close === '}') {
          space();
          if (text[i] !== '"') fail();
          string();
          space();
          if (text[i] !== ':') fail();
          i++;
        }
        break;
      }
    }
  };
  try {
    value();
    space();
    return i < n ? i : -1;
  } catch (e) {
    if (e instanceof SyntaxAt) return Math.min(e.offset, n);
    throw e;
  }
}

class SyntaxAt {
  constructor(readonly offset: number) {}
}

/** Line and column (from 1) of `offset` in `text`; columns count UTF-16 units. */
export function positionOf(text: string, offset: number): TextPosition {
  let line = 1, lineStart = 0;
  for (let k = 0; k < offset && k < text.length; k++) {
    if (text[k] === '\n') {
      line++;
      lineStart = k + 1;
    }
  }
  return { line, column: offset - lineStart + 1 };
}
