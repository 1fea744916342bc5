// Filter expressions split into tokens: identifiers, literals, operators and
// parentheses, each with its offset in the text for error messages.
import { FilterError } from './errors';

export type TokenKind = 'ident' | 'int' | 'float' | 'string' | 'true' | 'false' | 'op' | '(' | ')' | 'end';

export interface Token {
  kind: TokenKind;
  /** The text as written (for `string`, with its quotes and escapes). */
  text: string;
  pos: number;
  /** Decoded value of `string` tokens. */
  value?: string;
}

/** Longest operators first, so `<=` is not read as `<` then `=`. */
const OPERATORS = ['&&', '||', '==', '!=', '<=', '>=', '!~', '<', '>', '!', '~'];
const IDENT_START = /[A-Za-z_]/;
const IDENT_PART = /[A-Za-z0-9_]/;
const DIGIT = /[0-9]/;
const SPACE = /[ \t\n\r]/;
const ESCAPES: Record<string, string> = { '"': '"', "'": "'", '\\': '\\', n: '\n', t: '\t' };
const HEX4 = /^[0-9A-Fa-f]{4}$/;

export function tokenize(text: string, where: string): Token[] {
  const fail = (problem: string, pos: number): never => {
    throw new FilterError(where, problem, pos);
  };
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (SPACE.test(c)) {
      i++;
    } else if (IDENT_START.test(c)) {
      const start = i;
      while (i < text.length && IDENT_PART.test(text[i]!)) i++;
      const word = text.slice(start, i);
      tokens.push({ kind: word === 'true' || word === 'false' ? word : 'ident', text: word, pos: start });
    } else if (DIGIT.test(c) || ((c === '-' || c === '.') && DIGIT.test(text[i + 1] ?? '')) ||
        (c === '-' && text[i + 1] === '.' && DIGIT.test(text[i + 2] ?? ''))) {
      const token = readNumber(text, i, fail);
      tokens.push(token);
      i = token.pos + token.text.length;
    } else if (c === '"' || c === "'") {
      const token = readString(text, i, fail);
      tokens.push(token);
      i = token.pos + token.text.length;
    } else if (c === '(' || c === ')') {
      tokens.push({ kind: c, text: c, pos: i++ });
    } else {
      const op = OPERATORS.find((o) => text.startsWith(o, i));
      if (op === undefined) fail(unexpectedCharacter(text, i), i);
      tokens.push({ kind: 'op', text: op!, pos: i });
      i += op!.length;
    }
  }
  tokens.push({ kind: 'end', text: '', pos: text.length });
  return tokens;
}

function unexpectedCharacter(text: string, i: number): string {
  const c = String.fromCodePoint(text.codePointAt(i)!);
  const hint = c === '=' ? '; compare with ==' : c === '&' ? '; use && for "and"'
    : c === '|' ? '; use || for "or"' : c === '-' ? '; a minus sign must be followed by digits' : '';
  return `unexpected character ${JSON.stringify(c)}${hint}`;
}

/** Decimal integer or float, optionally negative: 42, -7, 0.5, .5, 1e9, 2.5E-3. */
function readNumber(text: string, start: number, fail: (problem: string, pos: number) => never): Token {
  let i = start;
  if (text[i] === '-') i++;
  const digits = () => {
    const from = i;
    while (i < text.length && DIGIT.test(text[i]!)) i++;
    return i > from;
  };
  const whole = digits();
  let float = false;
  if (text[i] === '.') {
    float = true;
    i++;
    if (!digits()) fail('expected digits after the decimal point', i);
  }
  if (text[i] === 'e' || text[i] === 'E') {
    float = true;
    i++;
    if (text[i] === '+' || text[i] === '-') i++;
    if (!digits()) fail('expected digits in the exponent', i);
  }
  if (!whole && !float) fail('expected digits', i); // unreachable: callers check for a digit
  if (i < text.length && (IDENT_PART.test(text[i]!) || text[i] === '.')) {
    fail(`unexpected character ${JSON.stringify(text[i])} after the number`, i);
  }
  return { kind: float ? 'float' : 'int', text: text.slice(start, i), pos: start };
}

/** A string in double or single quotes with \" \' \\ \n \t \uXXXX escapes. */
function readString(text: string, start: number, fail: (problem: string, pos: number) => never): Token {
  const quote = text[start]!;
  let value = '';
  let i = start + 1;
  for (;;) {
    if (i >= text.length) fail(`unterminated string: no closing ${quote}`, start);
    const c = text[i]!;
    if (c === quote) break;
    if (c !== '\\') {
      value += c;
      i++;
      continue;
    }
    if (i + 1 >= text.length) fail(`unterminated string: no closing ${quote}`, start);
    const e = String.fromCodePoint(text.codePointAt(i + 1)!);
    const simple = ESCAPES[e];
    if (simple !== undefined) {
      value += simple;
      i += 2;
    } else if (e === 'u' && HEX4.test(text.slice(i + 2, i + 6))) {
      value += String.fromCharCode(parseInt(text.slice(i + 2, i + 6), 16));
      i += 6;
    } else if (e === 'u') {
      fail('\\u must be followed by 4 hexadecimal digits', i);
    } else {
      fail(`unknown escape \\${e} in a string; ` +
        `use \\" \\' \\\\ \\n \\t or \\uXXXX`, i);
    }
  }
  return { kind: 'string', text: text.slice(start, i + 1), pos: start, value };
}
