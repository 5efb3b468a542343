/** Package version of @imsplex/zos-connect. */
export const VERSION = '0.1.0';
