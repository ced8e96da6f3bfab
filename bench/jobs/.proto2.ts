import Docker from 'dockerode';
const docker = new Docker();
const img = (await docker.listImages({ filters: { reference: ['skill-eval/task-trivial'] } }))[0]!.Id;
const c = await docker.createContainer({ Image: img, Cmd: ['sleep', 'infinity'] });
await c.start();
async function streamToBuf(s: NodeJS.ReadableStream) { const ch: Buffer[] = []; for await (const x of s) ch.push(x as Buffer); return Buffer.concat(ch); }
for (let r = 0; r < 2; r++) {
  let t = performance.now();
  for (let i = 0; i < 10; i++) { const e = await c.exec({ Cmd: ['true'], AttachStdout: true, AttachStderr: true }); const s = await e.start({}); await streamToBuf(s as any); await e.inspect(); }
  console.log('exec true', ((performance.now() - t) / 10).toFixed(1));
  t = performance.now();
  for (let i = 0; i < 10; i++) { const e = await c.exec({ Cmd: ['bash', '-c', 'echo 1 > /tmp/x'], AttachStdout: true, AttachStderr: true }); const s = await e.start({}); await streamToBuf(s as any); await e.inspect(); }
  console.log('exec bash', ((performance.now() - t) / 10).toFixed(1));
  t = performance.now();
  for (let i = 0; i < 10; i++) { const e = await c.exec({ Cmd: ['true'], AttachStdout: false, AttachStderr: false }); await e.start({Detach: true}); for(;;){ const info = await e.inspect(); if(!info.Running) break; await new Promise(r=>setTimeout(r,5)); } }
  console.log('exec detached poll', ((performance.now() - t) / 10).toFixed(1));
}
await c.remove({ force: true });
