/**
 * `imsplex-stack` — the imsplex high-availability stack in one command. See {@link run}.
 */
import { run } from './cli.js';

void run(process.argv.slice(2)).then((code) => {
  if (code !== 0) process.exit(code);
});
