/**
 * The user-defined target's log-density, `"logDensity": "-(x1**2 + x2**2) / 2"`: parsed by jsep
 * into an AST only (jsep never evaluates anything), then checked against an allow-list of node
 * types, functions and names, into our own small tree. src/core/sampler/expressionTarget.ts
 * compiles that tree to TensorFlow.js ops, so the gradient comes from autodiff. A bad expression
 * gets a message that says where (character position) and what was expected. Pure: no
 * TensorFlow.js (the manifest checks expressions while a spec is validated).
 */
import jsep from 'jsep';

/** Longest expression accepted (characters), and deepest nesting of the parsed tree. */
export const MAX_EXPRESSION_LENGTH = 4000;
export const MAX_EXPRESSION_DEPTH = 64;

/** Functions of one argument, and of more. */
export const UNARY_FUNCTIONS = ['exp', 'log', 'log1p', 'sqrt', 'abs', 'sin', 'cos', 'tanh', 'sigmoid', 'softplus', 'square'] as const;
export const VARIADIC_FUNCTIONS = ['logsumexp', 'min', 'max'] as const;
export const CONSTANTS: Readonly<Record<string, number>> = { pi: Math.PI, e: Math.E };
const OPERATORS = ['+', '-', '*', '/', '**'] as const;

export type UnaryFunction = (typeof UNARY_FUNCTIONS)[number];
export type VariadicFunction = (typeof VARIADIC_FUNCTIONS)[number];
export type Operator = (typeof OPERATORS)[number];

/** The checked tree: numbers, coordinates (by index), operators and allowed functions only. */
export type Expression =
  | { kind: 'number'; value: number }
  | { kind: 'coordinate'; index: number; name: string }
  | { kind: 'negate'; argument: Expression }
  | { kind: 'binary'; operator: Operator; left: Expression; right: Expression }
  | { kind: 'call'; name: UnaryFunction | VariadicFunction; args: Expression[] };

export class ExpressionError extends Error {
  override readonly name = 'ExpressionError';
}

// jsep has no power operator; ** binds tighter than * and / and groups to the right, as in JavaScript and Python.
jsep.addBinaryOp('**', 11, true);

/** Coordinate names: a letter or underscore, then letters, digits or underscores; not a constant or function name. */
export function checkCoordinateNames(names: readonly string[]): string | undefined {
  const reserved = new Set<string>([...UNARY_FUNCTIONS, ...VARIADIC_FUNCTIONS, ...Object.keys(CONSTANTS)]);
  const seen = new Set<string>();
  for (const name of names) {
    if (!/^[A-Za-z_][A-Za-z0-9_]{0,31}$/.test(name)) return `coordinate name '${name.slice(0, 40)}' must be a letter or _ followed by at most 31 letters, digits or _`;
    if (reserved.has(name)) return `coordinate name '${name}' is a function or constant of expressions`;
    if (seen.has(name)) return `coordinate name '${name}' appears twice`;
    seen.add(name);
  }
  return undefined;
}

/** Parses and checks `text` over `coordinates`; throws ExpressionError with the position and what was expected. */
export function parseExpression(text: string, coordinates: readonly string[]): Expression {
  if (text.length > MAX_EXPRESSION_LENGTH) throw new ExpressionError(`the expression has ${text.length} characters; at most ${MAX_EXPRESSION_LENGTH}`);
  if (text.trim() === '') throw new ExpressionError('the expression is empty');
  let ast: jsep.Expression;
  try {
    ast = jsep(text);
  } catch (error) {
    const { description, index } = error as { description?: string; index?: number };
    throw new ExpressionError(`${description ?? (error as Error).message}${index !== undefined ? ` at character ${index + 1}` : ''}`);
  }
  const where = (node: jsep.Expression) => {
    // jsep keeps no positions in its tree: point at the first occurrence of the node's text if we can rebuild it.
    const shown = typeof node.name === 'string' ? node.name : typeof node.raw === 'string' ? node.raw : undefined;
    const at = shown !== undefined ? text.indexOf(shown) : -1;
    return at >= 0 ? ` at character ${at + 1}` : '';
  };
  const allowed = `allowed: numbers, the coordinates (${coordinates.join(', ')}), pi, e, + - * / ** and ${[...UNARY_FUNCTIONS, ...VARIADIC_FUNCTIONS].join(', ')}`;
  const check = (node: jsep.Expression, depth: number): Expression => {
    if (depth > MAX_EXPRESSION_DEPTH) throw new ExpressionError(`the expression is nested more than ${MAX_EXPRESSION_DEPTH} deep`);
    switch (node.type) {
      case 'Literal': {
        if (typeof node.value !== 'number') throw new ExpressionError(`${JSON.stringify(String(node.raw)).slice(0, 40)}${where(node)} is not a number (${allowed})`);
        if (!Number.isFinite(node.value) || !Number.isFinite(Math.fround(node.value))) throw new ExpressionError(`${String(node.raw).slice(0, 40)}${where(node)} is not a finite float32 number`);
        return { kind: 'number', value: node.value };
      }
      case 'Identifier': {
        const name = node.name as string;
        const index = coordinates.indexOf(name);
        if (index >= 0) return { kind: 'coordinate', index, name };
        if (Object.hasOwn(CONSTANTS, name)) return { kind: 'number', value: CONSTANTS[name] };
        throw new ExpressionError(`unknown name '${name.slice(0, 40)}'${where(node)} (${allowed})`);
      }
      case 'UnaryExpression': {
        const argument = check(node.argument as jsep.Expression, depth + 1);
        if (node.operator === '-') return { kind: 'negate', argument };
        if (node.operator === '+') return argument;
        throw new ExpressionError(`operator '${String(node.operator)}'${where(node)} is not allowed (${allowed})`);
      }
      case 'BinaryExpression': {
        const operator = node.operator as string;
        if (!(OPERATORS as readonly string[]).includes(operator)) {
          const hint = operator === '^' ? ': write powers as **' : ` (${allowed})`;
          throw new ExpressionError(`operator '${operator}' is not allowed${hint}`);
        }
        // jsep reads -x ** 2 as (-x) ** 2 where Python and mathematics read -(x ** 2) (JavaScript refuses it): say so rather than guess.
        if (operator === '**' && (node.left as jsep.Expression).type === 'UnaryExpression') {
          throw new ExpressionError(`the base of ** starts with a sign${where(node.left as jsep.Expression)}: write -(x ** 2) for minus a power, or (0 - x) ** 3 for the power of a negative base`);
        }
        return { kind: 'binary', operator: operator as Operator, left: check(node.left as jsep.Expression, depth + 1), right: check(node.right as jsep.Expression, depth + 1) };
      }
      case 'CallExpression': {
        const callee = node.callee as jsep.Expression;
        const name = callee.type === 'Identifier' ? (callee.name as string) : undefined;
        const args = (node.arguments as jsep.Expression[]).map((argument) => check(argument, depth + 1));
        if (name !== undefined && (UNARY_FUNCTIONS as readonly string[]).includes(name)) {
          if (args.length !== 1) throw new ExpressionError(`${name}${where(callee)} takes 1 argument, got ${args.length}`);
          return { kind: 'call', name: name as UnaryFunction, args };
        }
        if (name !== undefined && (VARIADIC_FUNCTIONS as readonly string[]).includes(name)) {
          if (args.length < 1) throw new ExpressionError(`${name}${where(callee)} takes at least 1 argument`);
          return { kind: 'call', name: name as VariadicFunction, args };
        }
        throw new ExpressionError(`unknown function${name ? ` '${name.slice(0, 40)}'` : ''}${where(callee)} (${allowed})`);
      }
      default:
        throw new ExpressionError(`${describeNode(node.type)} is not allowed in an expression (${allowed})`);
    }
  };
  return check(ast, 0);
}

function describeNode(type: string): string {
  const names: Record<string, string> = {
    MemberExpression: 'a member access (a.b or a[b])',
    Compound: 'more than one expression (a comma or a missing operator)',
    ConditionalExpression: 'a conditional (a ? b : c)',
    ArrayExpression: 'an array',
    ThisExpression: "'this'",
    SequenceExpression: 'a sequence',
  };
  return names[type] ?? `a '${type}' node`;
}

/** Whether the expression reads any coordinate (a constant log-density is not a density). */
export function readsCoordinates(expression: Expression): boolean {
  switch (expression.kind) {
    case 'number':
      return false;
    case 'coordinate':
      return true;
    case 'negate':
      return readsCoordinates(expression.argument);
    case 'binary':
      return readsCoordinates(expression.left) || readsCoordinates(expression.right);
    case 'call':
      return expression.args.some(readsCoordinates);
  }
}
