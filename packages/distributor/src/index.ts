/** Package version of @imsplex/distributor. */
export const VERSION = '0.1.0';
