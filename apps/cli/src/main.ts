/**
 * `imsplex` — send transactions, decode captures, run loads and chaos drills, issue operator commands.
 */
import { run } from './program.js';

void run(process.argv.slice(2)).then((code) => {
  process.exitCode = code;
});
