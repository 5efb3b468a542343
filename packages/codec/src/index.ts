/** Package version of @imsplex/codec. */
export const VERSION = '0.1.0';
