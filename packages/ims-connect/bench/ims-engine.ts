/**
 * The IMS engine for the benchmark's informational "through the IMS engine" rows: an in-process
 * `@imsplex/ims` system in its own process (run with tsx and the source condition — the engine is not
 * the server under test), reporting its OTMA link address over IPC and stopping on `close`.
 */
import { startTestImsSystem } from '@imsplex/ims';
import { pino } from 'pino';

const ims = await startTestImsSystem({ logger: pino({ level: 'silent' }) as never });
process.send!({ host: ims.link.host, port: ims.link.port, member: ims.member });
process.on('message', (m) => {
  if (m === 'close') void ims.stop().then(() => process.exit(0));
});
process.on('disconnect', () => void ims.stop().then(() => process.exit(0)));
