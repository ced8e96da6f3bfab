import { createReadStream, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Readable } from 'node:stream';
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { UsageError } from '../errors.js';
import { appScript, appStyle, indexHtml } from './assets.js';
import type { Catalog } from './catalog.js';
import { guardPath } from './path-guard.js';
import { trialView } from './trial-data.js';

/**
 * The viewer's HTTP side (Hono on Node's http server): the page, its script and style, the JSON the pages read
 * (/api/…), the trials' raw files (/raw/JOB/TRIAL/PATH) and benchmark runs' files (/run-raw/RUN/PATH), these only
 * from inside a served job's trial directory or a served run's directory (src/view/path-guard.ts). Everything is
 * read-only: no route writes anything.
 */

const SECURITY_HEADERS = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'",
};
/** Raw files are shown as text (never as HTML of our origin); anything else is downloaded. */
const TEXT_FILE = /\.(?:json|jsonl|txt|log|md|sh|py|js|ts|toml|ya?ml|csv|diff|patch|out|err)$/i;
/** Screenshots are shown in the page (an image runs nothing); every other binary file is downloaded. */
const IMAGE_FILE = /\.png$/i;

export function createApp(catalog: Catalog): Hono {
  const app = new Hono();
  app.use('*', async (c, next) => {
    await next();
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) if (!c.res.headers.has(name)) c.header(name, value);
  });
  app.get('/', (c) => c.html(indexHtml('server')));
  app.get('/assets/app.js', async (c) =>
    c.body(await appScript(), 200, { 'Content-Type': 'text/javascript; charset=utf-8' }),
  );
  app.get('/assets/app.css', (c) => c.body(appStyle(), 200, { 'Content-Type': 'text/css; charset=utf-8' }));
  app.get('/favicon.ico', (c) => c.body(null, 204));
  app.get('/api/jobs', (c) => c.json(catalog.jobs()));
  app.get('/api/jobs/:key', (c) => {
    const store = catalog.job(c.req.param('key'));
    return store
      ? c.body(store.jobJson(), 200, { 'Content-Type': 'application/json; charset=utf-8' })
      : c.json({ error: `no job ${c.req.param('key')}` }, 404);
  });
  app.get('/api/jobs/:key/version', (c) => {
    const store = catalog.job(c.req.param('key'));
    return store ? c.json({ version: store.version() }) : c.json({ error: `no job ${c.req.param('key')}` }, 404);
  });
  app.get('/api/jobs/:key/trials/:name', (c) => {
    const store = catalog.job(c.req.param('key'));
    const view = store ? trialView(store, c.req.param('name')) : undefined;
    return view ? c.json(view) : c.json({ error: `no trial ${c.req.param('name')}` }, 404);
  });
  app.get('/api/runs/:key', (c) => {
    const store = catalog.run(c.req.param('key'));
    return store ? c.json(store.runView()) : c.json({ error: `no run ${c.req.param('key')}` }, 404);
  });
  app.get('/api/runs/:key/samples/:line', (c) => {
    const view = catalog.run(c.req.param('key'))?.sampleView(Number(c.req.param('line')));
    return view ? c.json(view) : c.json({ error: `no sample ${c.req.param('line')}` }, 404);
  });
  app.get('/raw/*', (c) => rawFile(catalog, new URL(c.req.url).pathname));
  app.get('/run-raw/*', (c) => runFile(catalog, new URL(c.req.url).pathname));
  app.notFound((c) => c.text('not found', 404));
  return app;
}

/** A path's segments after the route's own, each decoded once; undefined when one is malformed. */
function segmentsOf(pathname: string): string[] | undefined {
  try {
    return pathname.split('/').slice(2).map(decodeURIComponent);
  } catch {
    return undefined;
  }
}

/** `/raw/JOB/TRIAL/PATH…`: the job and the trial must be known, the path inside the trial. */
function rawFile(catalog: Catalog, pathname: string): Response {
  const segments = segmentsOf(pathname);
  if (!segments) return new Response('malformed path', { status: 400 });
  const [key, name, ...rest] = segments;
  const store = key === undefined ? undefined : catalog.job(key);
  const trial = store && name !== undefined ? store.trial(name) : undefined;
  if (!trial?.dir) return new Response('not found', { status: 404 });
  return fileInside(trial.dir, rest.join('/'));
}

/** `/run-raw/RUN/PATH…`: the run must be known, the path inside its directory. */
function runFile(catalog: Catalog, pathname: string): Response {
  const segments = segmentsOf(pathname);
  if (!segments) return new Response('malformed path', { status: 400 });
  const [key, ...rest] = segments;
  const store = key === undefined ? undefined : catalog.run(key);
  if (!store) return new Response('not found', { status: 404 });
  return fileInside(store.source.dir, rest.join('/'));
}

function fileInside(dir: string, requested: string): Response {
  const guarded = guardPath(dir, requested);
  if (!guarded.ok)
    return new Response(`refused: ${guarded.reason}`, { status: guarded.reason === 'no such file' ? 404 : 403 });
  let size: number;
  try {
    const info = statSync(guarded.path);
    if (!info.isFile()) return new Response('not a file', { status: 404 });
    size = info.size;
  } catch {
    return new Response('not found', { status: 404 });
  }
  const text = TEXT_FILE.test(guarded.path);
  const image = IMAGE_FILE.test(guarded.path);
  const body = Readable.toWeb(createReadStream(guarded.path)) as ReadableStream;
  return new Response(body, {
    headers: {
      'Content-Type': text ? 'text/plain; charset=utf-8' : image ? 'image/png' : 'application/octet-stream',
      'Content-Length': String(size),
      ...(text || image ? {} : { 'Content-Disposition': 'attachment' }),
      // A raw file is data: even opened on its own it runs nothing.
      'Content-Security-Policy': 'sandbox',
    },
  });
}

export interface RunningServer {
  url: string;
  close(): Promise<void>;
}

/** Listens on host:port (port 0: any free port); refuses a port in use with a usage error naming it. */
export function listen(app: Hono, host: string, port: number): Promise<RunningServer> {
  return new Promise((resolvePromise, reject) => {
    const server = serve({ fetch: app.fetch, hostname: host, port }, (info: AddressInfo) => {
      const shown = info.family === 'IPv6' ? `[${info.address}]` : info.address;
      resolvePromise({
        url: `http://${shown}:${info.port}/`,
        close: () => new Promise((done) => server.close(() => done())),
      });
    });
    server.on('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE')
        reject(
          new UsageError(`--port ${port}: the port is in use on ${host}`, {
            hint: 'give another --port, or --port 0 for any free one',
          }),
        );
      else if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND')
        reject(new UsageError(`--host ${host}: not an address of this machine`, { cause: error }));
      else reject(error);
    });
  });
}
