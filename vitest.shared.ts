/** Resolve sibling workspace packages to their TypeScript sources, so tests need no build. */
export const sourceConditions = ['@imsplex/source', 'module', 'node', 'development|production'];
