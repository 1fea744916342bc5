// Filter expressions parsed into a SyntaxTree by recursive descent.
// Precedence, loosest first: ||, &&, !, then comparisons; parentheses group.
//   or      := and ('||' and)*
//   and     := unary ('&&' unary)*
//   unary   := '!' unary | '(' or ')' | operand (compareOp operand)?
//   operand := field | integer | float | string | true | false
// `!` applies to the comparison after it: `!status == 5` is `!(status == 5)`.
import type { CompareOp, FieldName, Literal, SyntaxTree } from './ast';
import { FilterError, MAX_FILTER_DEPTH, MAX_FILTER_LENGTH } from './errors';
import { tokenize, type Token } from './lexer';

const COMPARE_OPS: readonly string[] = ['==', '!=', '<', '<=', '>', '>=', '~', '!~'];

export function parse(text: string, where: string): SyntaxTree {
  if (text.length > MAX_FILTER_LENGTH) {
    throw new FilterError(where, `the expression is ${text.length} characters long; ` +
      `at most ${MAX_FILTER_LENGTH}`, MAX_FILTER_LENGTH);
  }
  return new Parser(tokenize(text, where), where).parseAll();
}

function describeToken(t: Token): string {
  return t.kind === 'end' ? 'the end of the expression' : `'${t.text}'`;
}

class Parser {
  private k = 0;
  private depth = 0;

  constructor(private readonly tokens: Token[], private readonly where: string) {}

  parseAll(): SyntaxTree {
    if (this.peek().kind === 'end') this.fail('empty filter expression', 0);
    const tree = this.or();
    const t = this.peek();
    if (t.kind === ')') this.fail("unmatched ')'", t.pos);
    if (t.kind !== 'end') this.unexpectedAfterCondition(t);
    return tree;
  }

  private unexpectedAfterCondition(t: Token): never {
    if (t.kind === 'op' && COMPARE_OPS.includes(t.text)) {
      this.fail(`unexpected '${t.text}': the left side of a comparison is a field or a value, ` +
        `not an expression in parentheses`, t.pos);
    }
    return this.fail(`unexpected ${describeToken(t)} after a complete condition; join conditions with && or ||`, t.pos);
  }

  private or(): SyntaxTree {
    return this.chain('||', 'or', () => this.and());
  }

  private and(): SyntaxTree {
    return this.chain('&&', 'and', () => this.unary());
  }

  /** One or more `term`s joined by `op`, as one n-ary node (flat, so long chains stay shallow). */
  private chain(op: string, kind: 'or' | 'and', term: () => SyntaxTree): SyntaxTree {
    const first = term();
    if (!this.isOp(op)) return first;
    const pos = this.peek().pos;
    const terms = [first];
    while (this.isOp(op)) {
      this.k++;
      terms.push(term());
    }
    return { kind, terms, pos };
  }

  private unary(): SyntaxTree {
    const t = this.peek();
    if (this.isOp('!')) {
      this.enter(t);
      this.k++;
      const term = this.unary();
      this.depth--;
      return { kind: 'not', term, pos: t.pos };
    }
    if (t.kind === '(') {
      this.enter(t);
      this.k++;
      const inner = this.or();
      const close = this.peek();
      if (close.kind === 'op' && COMPARE_OPS.includes(close.text)) this.unexpectedAfterCondition(close);
      if (close.kind !== ')') {
        this.fail(`expected ')' to close the '(' at position ${t.pos}, found ${describeToken(close)}`, close.pos);
      }
      this.k++;
      this.depth--;
      return inner;
    }
    const left = this.operand();
    const op = this.peek();
    if (op.kind !== 'op' || !COMPARE_OPS.includes(op.text)) return { kind: 'test', operand: left, pos: left.pos };
    this.k++;
    const right = this.operand();
    const after = this.peek();
    if (after.kind === 'op' && COMPARE_OPS.includes(after.text)) {
      this.fail(`comparisons do not chain; join them with &&, e.g. a < b && b < c`, after.pos);
    }
    return { kind: 'compare', op: op.text as CompareOp, left, right, pos: op.pos };
  }

  private operand(): FieldName | Literal {
    const t = this.peek();
    const pos = t.pos;
    switch (t.kind) {
      case 'ident': this.k++; return { kind: 'field', name: t.text, pos };
      case 'int': this.k++; return { kind: 'int', value: BigInt(t.text), pos };
      case 'float': this.k++; return { kind: 'float', value: Number(t.text), pos };
      case 'string': this.k++; return { kind: 'string', value: t.value!, pos };
      case 'true': case 'false': this.k++; return { kind: 'bool', value: t.kind === 'true', pos };
      default:
        return this.fail(`expected a field, a value, '!' or '(' but found ${describeToken(t)}`, pos);
    }
  }

  private enter(t: Token): void {
    if (++this.depth > MAX_FILTER_DEPTH) {
      this.fail(`nested more than ${MAX_FILTER_DEPTH} levels deep ('(' and '!')`, t.pos);
    }
  }

  private peek(): Token {
    return this.tokens[this.k]!;
  }

  private isOp(text: string): boolean {
    const t = this.peek();
    return t.kind === 'op' && t.text === text;
  }

  private fail(problem: string, pos: number): never {
    throw new FilterError(this.where, problem, pos);
  }
}
