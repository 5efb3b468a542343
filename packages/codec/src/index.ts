/**
 * @imsplex/codec — the IMS Connect / OTMA wire codec.
 * @packageDocumentation
 */
export * from './errors.js';
export * from './ebcdic.js';
export * from './layout.js';
export * from './codes.js';
export * from './reply.js';
export * from './reply-framer.js';
export * from './otma.js';
export * from './otma-state.js';
export * from './xcf.js';
export * from './constants.js';
export * from './timer.js';
export * from './exits.js';
export * from './extensions.js';
export * from './irm.js';
export * from './segments.js';
export * from './request.js';
export * from './framer.js';
