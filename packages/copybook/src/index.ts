/**
 * @imsplex/copybook — COBOL copybook parser and record ⇄ JSON mapping.
 *
 * ```ts
 * const book = compileCopybook(source, { codePage: 'cp037' });
 * const obj = book.decode(record);   // bytes → object
 * const bytes = book.encode(obj);    // object → bytes
 * ```
 * @packageDocumentation
 */
export { CopybookError, CopybookErrorCode } from './errors.js';
export { parseCopybook } from './parse.js';
export type { ParsedCopybook, ParseOptions, DataItem, Condition, ConditionValue, Renames, Literal, Usage } from './parse.js';
export { compileCopybook, Copybook, literalText } from './compile.js';
export type { CompileOptions, DecodeOptions, Field, FieldKind, NameStyle, NumberMode, SchemaOptions } from './compile.js';
export { analysePicture } from './picture.js';
export type { Picture, PictureCategory } from './picture.js';
export { readHfp, writeHfp } from './hfp.js';
export type { HfpProblem } from './hfp.js';
export type { SourceFormat } from './source.js';

/** Package version of @imsplex/copybook. */
export const VERSION = '0.1.0';
