import Docker from 'dockerode';
import type { Duplex } from 'node:stream';
import { packFiles } from '../../src/environments/docker/context.js';
const docker = new Docker();
const img = (await docker.listImages({ filters: { reference: ['skill-eval/task-trivial'] } }))[0]!.Id;
const c = await docker.createContainer({ Image: img, Cmd: ['sleep', 'infinity'] });
await c.start();
async function streamToBuf(s: NodeJS.ReadableStream) { const ch: Buffer[] = []; for await (const x of s) ch.push(x as Buffer); return Buffer.concat(ch); }
const files = [{ path: 'tests/test.sh', content: 'echo hi\n', mode: 0o755 }];
for (let r = 0; r < 2; r++) {
  let t = performance.now();
  for (let i = 0; i < 10; i++) await c.putArchive(packFiles(files), { path: '/' });
  console.log('putArchive', ((performance.now() - t) / 10).toFixed(1));
  t = performance.now();
  for (let i = 0; i < 10; i++) {
    const e = await c.exec({ Cmd: ['tar', '-x', '-f', '-', '-C', '/'], AttachStdin: true, AttachStdout: true, AttachStderr: true, User: '0' });
    const s = (await e.start({ hijack: true, stdin: true })) as Duplex;
    s.resume();
    const buf = await streamToBuf(packFiles(files));
    s.end(buf);
    await new Promise((res) => s.once('end', res));
    const info = await e.inspect(); if (info.ExitCode !== 0) throw new Error('rc ' + info.ExitCode);
  }
  console.log('exec tar -x', ((performance.now() - t) / 10).toFixed(1));
  t = performance.now();
  for (let i = 0; i < 10; i++) { const a = await c.getArchive({ path: '/tests' }); await streamToBuf(a as any); }
  console.log('getArchive', ((performance.now() - t) / 10).toFixed(1));
  t = performance.now();
  for (let i = 0; i < 10; i++) {
    const e = await c.exec({ Cmd: ['tar', '-c', '-f', '-', '-C', '/', 'tests'], AttachStdout: true, AttachStderr: true, User: '0' });
    const s = await e.start({});
    await streamToBuf(s as any); await e.inspect();
  }
  console.log('exec tar -c', ((performance.now() - t) / 10).toFixed(1));
}
await c.remove({ force: true });
