/**
 * Module hooks that make loading any file under src/stack fail. A process
 * started with `node --import tsx --import ./test/integration/forbid-stack.mjs`
 * proves that it never loads the local stack (production-config.test.ts).
 * The hooks run in Node's loader thread, where this same file is loaded again.
 */
import { register } from 'node:module';
import { isMainThread } from 'node:worker_threads';

if (isMainThread) register(import.meta.url);

/** Resolves as usual, then refuses anything under src/stack. */
export async function resolve(specifier, context, nextResolve) {
  const resolved = await nextResolve(specifier, context);
  if (resolved.url.includes('/src/stack/')) {
    throw new Error(`forbidden: ${resolved.url} loaded from ${context.parentURL}: src/stack must not be loaded here`);
  }
  return resolved;
}
