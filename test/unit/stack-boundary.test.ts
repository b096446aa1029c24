/**
 * Production code never needs the local stack: no module outside src/stack
 * imports it (type imports included), except the `stack` command, and only two
 * places load it on demand. production-config.test.ts proves at run time that
 * with every service configured those places load nothing of it.
 */
import { describe, expect, it } from 'vitest';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = fileURLToPath(new URL('../..', import.meta.url));
const src = join(root, 'src');
const isStack = (file: string) => relative(src, file).startsWith(`stack/`);
const name = (file: string) => relative(root, file);

interface Imports { static: string[]; dynamic: string[] }

/** The project files a module imports statically (type-only imports too) and with import(). */
function importsOf(file: string): Imports {
  const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
  const found: Imports = { static: [], dynamic: [] };
  const add = (kind: keyof Imports, specifier: ts.Node | undefined) => {
    if (specifier && ts.isStringLiteralLike(specifier) && specifier.text.startsWith('.')) found[kind].push(resolve(dirname(file), specifier.text));
  };
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) add('static', node.moduleSpecifier);
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) add('dynamic', node.arguments[0]);
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) add('static', node.argument.literal);
    ts.forEachChild(node, visit);
  };
  visit(source);
  return found;
}

const files = (readdirSync(src, { recursive: true }) as string[]).filter((f) => f.endsWith('.ts')).map((f) => join(src, f));
const graph = new Map(files.map((f) => [f, importsOf(f)]));

/** Every module `file` loads through static imports, itself included. */
function staticClosure(file: string): Set<string> {
  const seen = new Set<string>();
  const stack = [file];
  while (stack.length > 0) {
    const next = stack.pop()!;
    if (seen.has(next)) continue;
    seen.add(next);
    stack.push(...(graph.get(next)?.static ?? []));
  }
  return seen;
}

describe('the local stack boundary', () => {
  it('reads a module\'s static, type and dynamic imports', () => {
    expect(graph.get(join(src, 'main.ts'))?.static).toContain(join(src, 'cli', 'run.ts'));
    expect(graph.get(join(src, 'cli', 'run.ts'))?.dynamic).toContain(join(src, 'cli', 'stack.ts'));
  });

  it('no module outside src/stack imports it, type imports included, except the `stack` command', () => {
    const reaching = files.filter((f) => !isStack(f) && [...staticClosure(f)].some(isStack)).map(name);
    expect(reaching).toEqual(['src/cli/stack.ts']);
  });

  it('the stack is loaded on demand only by src/cli/services.ts, and the `stack` command only by src/cli/run.ts', () => {
    const loads = files.filter((f) => !isStack(f)).flatMap((f) => (graph.get(f)?.dynamic ?? [])
      .filter((target) => [...staticClosure(target)].some(isStack))
      .map((target) => `${name(f)} -> ${name(target)}`));
    expect([...new Set(loads)].sort()).toEqual(['src/cli/run.ts -> src/cli/stack.ts', 'src/cli/services.ts -> src/stack/stack.ts']);
  });
});
