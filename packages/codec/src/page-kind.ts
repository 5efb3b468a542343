/**
 * Internal: which code pages the codec's caches and fast paths may trust. A page made by
 * `registerCodePage` (every built-in page too) encodes and decodes character by character through fixed
 * tables, so per-page lookup tables and caches built from it stay right. Any other object implementing
 * `CodePage` is used only through its methods, uncached.
 */
import { CP037, type CodePage } from './ebcdic.js';

const TABLE_PAGE_PROTOTYPE: unknown = Object.getPrototypeOf(CP037);
const hasOwn = Object.prototype.hasOwnProperty;

/** True for a code page made by `registerCodePage` whose methods are the table page's own. */
export function isTablePage(page: CodePage): boolean {
  return Object.getPrototypeOf(page) === TABLE_PAGE_PROTOTYPE && !hasOwn.call(page, 'encodeInto') && !hasOwn.call(page, 'decode') && !hasOwn.call(page, 'byteOf');
}
