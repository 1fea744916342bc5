// Filter expression trees. The parser makes a SyntaxTree (field names as
// written); the checker resolves them against the event's fields and checks
// types, making a FilterAst, the only input of code generation.
import type { FieldType } from '../schema';

export type CompareOp = '==' | '!=' | '<' | '<=' | '>' | '>=' | '~' | '!~';

/** A literal as written: integers stay exact (bigint) whatever their size. */
export type Literal =
  | { readonly kind: 'int'; readonly value: bigint; readonly pos: number }
  | { readonly kind: 'float'; readonly value: number; readonly pos: number }
  | { readonly kind: 'string'; readonly value: string; readonly pos: number }
  | { readonly kind: 'bool'; readonly value: boolean; readonly pos: number };

export interface FieldName {
  readonly kind: 'field';
  readonly name: string;
  readonly pos: number;
}

/** A field of the event: `index` is its position among emit's arguments. */
export interface FieldRef extends FieldName {
  readonly index: number;
  readonly type: FieldType;
}

/** `pos` is the offset of the node's operator (or of its operand for `test`). */
export type Expr<Operand> =
  | { readonly kind: 'or' | 'and'; readonly terms: readonly Expr<Operand>[]; readonly pos: number }
  | { readonly kind: 'not'; readonly term: Expr<Operand>; readonly pos: number }
  | { readonly kind: 'compare'; readonly op: CompareOp; readonly left: Operand; readonly right: Operand;
      readonly pos: number }
  /** A bare operand used as a condition: a bool field, `true` or `false`. */
  | { readonly kind: 'test'; readonly operand: Operand; readonly pos: number };

export type SyntaxTree = Expr<FieldName | Literal>;
export type FilterAst = Expr<FieldRef | Literal>;
