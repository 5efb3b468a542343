/** Package version of @imsplex/copybook. */
export const VERSION = '0.1.0';
