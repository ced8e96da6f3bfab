/**
 * First-token latency through the model gateway vs straight to the upstream: a local SSE server in the
 * Anthropic Messages shape sends its first event after a "thinking" delay, then the rest; the client times
 * the first body chunk. Goal (issue #18): through the gateway ≤ 1.1 × direct + 5 ms. Prints medians and p90s
 * and the ratio for each delay; nothing here is a pass/fail test.
 *
 *   pnpm run bench gateway
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { newGatewayToken, startGateway } from '../../src/gateway/gateway.js';
import { Redactor } from '../../src/util/secrets.js';

const KEY = 'sk-bench-real-key-0123456789';
const ROUNDS = 60;
const DELAYS_MS = [0, 20];

let firstEventDelay = 0;
const upstream = createServer((req, res) => {
  req.resume();
  req.on('end', async () => {
    res.writeHead(200, { 'content-type': 'text/event-stream' });
    res.flushHeaders();
    await sleep(firstEventDelay);
    const start = { type: 'message_start', message: { model: 'bench', usage: { input_tokens: 10, output_tokens: 1 } } };
    res.write(`event: message_start\ndata: ${JSON.stringify(start)}\n\n`);
    for (let i = 0; i < 5; i++) {
      await sleep(2);
      const delta = { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: `word ${i} ` } };
      res.write(`event: content_block_delta\ndata: ${JSON.stringify(delta)}\n\n`);
    }
    res.end(
      `event: message_delta\ndata: ${JSON.stringify({ type: 'message_delta', usage: { output_tokens: 6 } })}\n\n`,
    );
  });
});
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve));
const direct = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`;

const dir = await mkdtemp(join(tmpdir(), 'skill-eval-bench-gateway-'));
const token = newGatewayToken();
const gateway = await startGateway({
  upstreams: { anthropic: { baseUrl: direct, apiKey: KEY } },
  token,
  callsFile: join(dir, 'model_calls.jsonl'),
  redactor: new Redactor([KEY, token]),
});

const body = JSON.stringify({
  model: 'claude-sonnet-4-5',
  max_tokens: 100,
  stream: true,
  messages: [{ role: 'user', content: 'x'.repeat(20_000) }],
});

/** Milliseconds from sending the request to the first body chunk; the rest is read to the end. */
async function firstToken(base: string, key: string): Promise<number> {
  const started = performance.now();
  const response = await fetch(`${base}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': key, 'anthropic-version': '2023-06-01' },
    body,
  });
  const reader = response.body!.getReader();
  await reader.read();
  const ms = performance.now() - started;
  while (!(await reader.read()).done) {
    // drain
  }
  return ms;
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

console.log(`first-token latency, ${ROUNDS} rounds each, alternating direct / through the gateway`);
console.log(
  `${'first event after'.padEnd(18)} ${'direct p50/p90'.padStart(16)} ${'gateway p50/p90'.padStart(16)}  ratio p50  goal (1.1 × direct + 5 ms)`,
);
try {
  for (const delay of DELAYS_MS) {
    firstEventDelay = delay;
    for (let i = 0; i < 5; i++) {
      await firstToken(direct, KEY);
      await firstToken(gateway.url, token);
    }
    const times = { direct: [] as number[], gateway: [] as number[] };
    for (let i = 0; i < ROUNDS; i++) {
      times.direct.push(await firstToken(direct, KEY));
      times.gateway.push(await firstToken(gateway.url, token));
    }
    const d = times.direct.sort((a, b) => a - b);
    const g = times.gateway.sort((a, b) => a - b);
    const [d50, g50] = [quantile(d, 0.5), quantile(g, 0.5)];
    const goal = 1.1 * d50 + 5;
    console.log(
      `${`${delay} ms`.padEnd(18)} ${`${d50.toFixed(2)}/${quantile(d, 0.9).toFixed(2)}`.padStart(16)} ${`${g50.toFixed(2)}/${quantile(g, 0.9).toFixed(2)}`.padStart(16)}  ${(g50 / d50).toFixed(2).padStart(9)}  ${goal.toFixed(2)} ms: ${g50 <= goal ? 'met' : 'NOT met'}`,
    );
  }
  const usage = gateway.usage();
  console.log(`gateway counted ${usage.calls} calls, ${usage.inputTokens} input / ${usage.outputTokens} output tokens`);
} finally {
  await gateway.close();
  upstream.closeAllConnections();
  upstream.close();
  await rm(dir, { recursive: true, force: true });
}
