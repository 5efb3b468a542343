/**
 * `@imsplex/codec/testing` — naive fixture builders and golden vectors for tests of the codec and of
 * packages built on it. Nothing here is used by the production codec.
 * @packageDocumentation
 */
export * from './requests.js';
export * from './vectors.js';
export * from './replies.js';
export * from './otma.js';
