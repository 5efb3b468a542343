/** Package version of @imsplex/ims. */
export const VERSION = '0.1.0';
