/** Package version of @imsplex/client. */
export const VERSION = '0.1.0';
