/**
 * The `imsplex` command line as a library: every command can run in-process.
 * @packageDocumentation
 */
export { run, buildProgram, parseDuration, type Io } from './program.js';
export { CliError, CliErrorCode } from './errors.js';
export { parseHex, hexDump, MAX_HEX_BYTES } from './hex.js';
export { tcpStreams, buildPcap, isCapture, type TcpStream } from './pcap.js';
export { decodeBytes, formatDecoded, segmentText, type Decoded, type DecodeAs, type DecodeOptions } from './decode.js';
export { runDemo, SAMPLE_REQUEST_HEX, SAMPLE_REPLY_HEX, type DemoResult } from './demo.js';
export { sendCommand, parseTimer, SEND_TYPES, type SendOptions, type SendType } from './send.js';
export { runLoad, formatLoadResult, imsConnectTarget, restTarget, LOAD_LIMITS, type LoadOptions, type LoadResult, type LoadTarget, type Outcome, type RequestRecord } from './load.js';
export { runChaos, killReports, defaultVictims, formatKills, type ChaosOptions, type ChaosResult, type KillReport } from './chaos.js';
export { findStack, stackApi, type StackEndpoint, type StackState } from './stack.js';
