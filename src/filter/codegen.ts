// JS source generated from a checked FilterAst, never from the user's text:
// field values are parameters v0..v{n-1}, literals are re-emitted here
// (numbers formatted, strings through JSON.stringify). Every comparison first
// checks its values' JS types, so the code cannot throw whatever it is given
// (a value of the wrong type makes that comparison false) and touches nothing
// but primitives: no allocation, no calls except string methods for globs.
//
// A filter is one `return <expression>;` unless it has a glob that needs a
// loop (see glob.ts); then it is statements that `break` out of labelled
// blocks to `return false`, which keeps && and || short-circuiting.
import type { Field, FieldType } from '../schema';
import type { FieldRef, FilterAst, Literal } from './ast';
import { globExpression, globStatements, parseGlob } from './glob';

const WIDE = new Set<FieldType>(['i64', 'u64']);

/** Integer literals beyond this are emitted as bigints, so they compare exactly. */
const SAFE = BigInt(Number.MAX_SAFE_INTEGER);

function literalCode(lit: Literal): string {
  switch (lit.kind) {
    case 'int': return lit.value > SAFE || lit.value < -SAFE ? `${lit.value}n` : `${lit.value}`;
    case 'float':
      // String(x) of a finite number is a JS literal that reads back as x.
      return Number.isFinite(lit.value) ? String(lit.value) : lit.value > 0 ? '1e999' : '-1e999';
    case 'string': return JSON.stringify(lit.value);
    case 'bool': return String(lit.value);
  }
}

function isBig(o: FieldRef | Literal): boolean {
  return o.kind === 'field' ? WIDE.has(o.type) : o.kind === 'int' && literalCode(o).endsWith('n');
}

/** The JS type test a field's value must pass to be compared. */
function typeGuard(f: FieldRef): string {
  const v = `v${f.index}`;
  switch (f.type) {
    case 'string': return `typeof ${v} === "string"`;
    case 'bool': return `typeof ${v} === "boolean"`;
    case 'i64': case 'u64': return `(typeof ${v} === "number" || typeof ${v} === "bigint")`;
    default: return `typeof ${v} === "number"`;
  }
}

function operandCode(o: FieldRef | Literal): string {
  return o.kind === 'field' ? `v${o.index}` : literalCode(o);
}

/**
 * The body of a function taking emit's values as parameters v0..v{n-1} (in
 * the order of `fields`, which `ast` was checked against) and returning
 * whether the event passes.
 */
export function filterSource(ast: FilterAst, fields: readonly Field[]): string {
  let labels = 0;
  const label = () => `f${labels++}`;

  const field = (o: FieldRef): FieldRef => {
    const f = fields[o.index];
    if (f === undefined || f.name !== o.name || f.type !== o.type) {
      throw new Error(`ringtrace: filterSource: field '${o.name}' is not field ${o.index} of these fields ` +
        `(the filter was checked against other fields)`);
    }
    return o;
  };

  /** The node as one expression, or null if it has a glob that needs statements. */
  const expression = (node: FilterAst): string | null => {
    switch (node.kind) {
      case 'or': case 'and': {
        const terms = node.terms.map(expression);
        if (terms.some((t) => t === null)) return null;
        return `(${terms.join(node.kind === 'or' ? ' || ' : ' && ')})`;
      }
      case 'not': {
        const term = expression(node.term);
        return term === null ? null : `!${term}`;
      }
      case 'test': {
        const o = node.operand;
        // A bool field is true only when its value is the boolean true.
        return o.kind === 'field' ? `(v${field(o).index} === true)` : operandCode(o);
      }
      case 'compare': {
        const { op, left, right } = node;
        const guards = [left, right].filter((o): o is FieldRef => o.kind === 'field').map((o) => typeGuard(field(o)));
        if (op === '~' || op === '!~') {
          const match = globExpression(operandCode(left), parseGlob((right as Literal).value as string));
          return match === null ? null : `(${guards.join(' && ')} && ${op === '!~' ? '!' : ''}(${match}))`;
        }
        // == between a number and a bigint compares their values exactly (=== would say 5 !== 5n);
        // the guards make sure both are numbers or bigints before it runs.
        const loose = isBig(left) || isBig(right);
        const jsOp = op === '==' ? (loose ? '==' : '===') : op === '!=' ? (loose ? '!=' : '!==') : op;
        return `(${guards.join(' && ')} && ${operandCode(left)} ${jsOp} ${operandCode(right)})`;
      }
    }
  };

  /** Statements that fall through if the node is true and `break falseLabel` if it is false. */
  const statements = (node: FilterAst, falseLabel: string): string => {
    const e = expression(node);
    if (e !== null) return `if (!${e}) break ${falseLabel};`;
    switch (node.kind) {
      case 'and': return node.terms.map((t) => statements(t, falseLabel)).join('\n');
      case 'or': {
        const done = label();
        const tries = node.terms.slice(0, -1).map((t) => {
          const next = label();
          return `${next}: {\n${statements(t, next)}\nbreak ${done};\n}`;
        });
        return `${done}: {\n${tries.join('\n')}\n${statements(node.terms[node.terms.length - 1]!, falseLabel)}\n}`;
      }
      case 'not': {
        const inner = label();
        return `${inner}: {\n${statements(node.term, inner)}\nbreak ${falseLabel};\n}`;
      }
      case 'compare': {
        const { op, left, right } = node;
        return globStatements(`v${field(left as FieldRef).index}`, parseGlob((right as Literal).value as string),
          op === '!~', falseLabel, label());
      }
      case 'test': throw new Error('unreachable: a test is always an expression');
    }
  };

  const e = expression(ast);
  if (e !== null) return `return ${e};`;
  const no = label();
  return `${no}: {\n${statements(ast, no)}\nreturn true;\n}\nreturn false;`;
}
