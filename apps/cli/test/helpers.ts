import { run } from '../src/program.js';

/** Runs the CLI in-process and captures its output. */
export async function cli(argv: string[], stdin?: Uint8Array): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(argv, { out: (t) => (out += t), err: (t) => (err += t), progress: null, ...(stdin ? { stdin: async () => stdin } : {}) });
  return { code, out, err };
}
