/**
 * @imsplex/codec — the IMS Connect / OTMA wire codec.
 * @packageDocumentation
 */
export * from './errors.js';
export * from './ebcdic.js';
