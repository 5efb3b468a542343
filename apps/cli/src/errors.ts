/**
 * Errors of the `imsplex` command. Match on `code`.
 */
import { ImsplexError } from '@imsplex/codec';

/** Stable codes of {@link CliError}. */
export const CliErrorCode = {
  /** A hex dump could not be read (odd digit count, stray characters). */
  BAD_HEX: 'CLI_ERR_BAD_HEX',
  /** A capture file is not a pcap/pcapng file, or is truncated. */
  BAD_PCAP: 'CLI_ERR_BAD_PCAP',
  /** The bytes are not any IMS Connect / OTMA structure we know. */
  UNDECODABLE: 'CLI_ERR_UNDECODABLE',
  /** A command-line option has an invalid value. */
  BAD_OPTION: 'CLI_ERR_BAD_OPTION',
  /** A running stack could not be reached or refused the request. */
  STACK: 'CLI_ERR_STACK',
  /** A REST request failed at the HTTP level. */
  HTTP: 'CLI_ERR_HTTP',
} as const;
export type CliErrorCode = (typeof CliErrorCode)[keyof typeof CliErrorCode];

/** An error of the `imsplex` command. */
export class CliError extends ImsplexError {
  declare readonly code: CliErrorCode;
  constructor(code: CliErrorCode, message: string, options?: { cause?: unknown; details?: Record<string, unknown> }) {
    super(code, message, options);
  }
}
