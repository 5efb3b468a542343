/** Package version of @imsplex/ims-connect. */
export const VERSION = '0.1.0';
