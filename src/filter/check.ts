// Filter trees checked against an event's fields: every name must be a field,
// and each comparison must be between compatible types (numbers with numbers,
// strings with strings, bools with true/false by == and !=). bytes fields
// cannot be compared. The result is the FilterAst code generation trusts.
import type { Field, FieldType } from '../schema';
import type { FieldName, FieldRef, FilterAst, Literal, SyntaxTree } from './ast';
import { FilterError } from './errors';

type ValueKind = 'number' | 'string' | 'bool' | 'bytes';

function fieldKind(type: FieldType): ValueKind {
  return type === 'string' || type === 'bytes' ? type : type === 'bool' ? 'bool' : 'number';
}

function kindOf(o: FieldRef | Literal): ValueKind {
  if (o.kind === 'field') return fieldKind(o.type);
  return o.kind === 'int' || o.kind === 'float' ? 'number' : o.kind;
}

function describeOperand(o: FieldRef | Literal): string {
  switch (o.kind) {
    case 'field': return `'${o.name}' (${o.type})`;
    case 'int': case 'float': return `the number ${o.value}`;
    case 'string': return `the string ${JSON.stringify(o.value)}`;
    case 'bool': return `${o.value}`;
  }
}

export function check(tree: SyntaxTree, fields: readonly Field[], where: string): FilterAst {
  const fail = (problem: string, pos: number): never => {
    throw new FilterError(where, problem, pos);
  };
  const byName = new Map(fields.map((f, index) => [f.name, index]));

  const resolve = (o: FieldName | Literal): FieldRef | Literal => {
    if (o.kind !== 'field') return o;
    const index = byName.get(o.name);
    if (index === undefined) {
      const list = fields.length === 0 ? `${where} has no fields`
        : `${where} has fields ${fields.map((f) => `${f.name} (${f.type})`).join(', ')}`;
      return fail(`unknown field '${o.name}'; ${list}`, o.pos);
    }
    const ref: FieldRef = { kind: 'field', name: o.name, pos: o.pos, index, type: fields[index]!.type };
    if (ref.type === 'bytes') fail(`'${ref.name}' is a bytes field; bytes fields cannot be compared`, ref.pos);
    return ref;
  };

  const visit = (node: SyntaxTree): FilterAst => {
    switch (node.kind) {
      case 'or': case 'and': return { kind: node.kind, terms: node.terms.map(visit), pos: node.pos };
      case 'not': return { kind: 'not', term: visit(node.term), pos: node.pos };
      case 'test': {
        const operand = resolve(node.operand);
        if (kindOf(operand) !== 'bool') {
          const example = operand.kind === 'field' ? `, e.g. ${operand.name} ${
            fieldKind(operand.type) === 'string' ? '== "x"' : '== 0'}` : '';
          fail(`${describeOperand(operand)} is not a condition; compare it with a value${example}`, operand.pos);
        }
        return { kind: 'test', operand, pos: node.pos };
      }
      case 'compare': {
        const left = resolve(node.left);
        const right = resolve(node.right);
        const { op, pos } = node;
        if (left.kind !== 'field' && right.kind !== 'field') {
          fail(`a comparison needs a field on at least one side; both sides of ${op} are values`, pos);
        }
        const lk = kindOf(left);
        const rk = kindOf(right);
        if (op === '~' || op === '!~') {
          if (left.kind !== 'field' || lk !== 'string') {
            fail(`${op} matches a string field against a pattern; its left side is ${describeOperand(left)}`, left.pos);
          }
          if (right.kind !== 'string') {
            fail(`the pattern after ${op} must be a string in quotes, e.g. path ~ "/api/*"; ` +
              `found ${describeOperand(right)}`, right.pos);
          }
        } else if (lk !== rk) {
          fail(`cannot compare ${describeOperand(left)} with ${describeOperand(right)} (${lk} vs ${rk})`, pos);
        } else if (lk === 'bool' && op !== '==' && op !== '!=') {
          fail(`${op} does not apply to bools; compare ${describeOperand(left.kind === 'field' ? left : right)} ` +
            `with == or != true/false`, pos);
        }
        return { kind: 'compare', op, left, right, pos };
      }
    }
  };
  return visit(tree);
}

