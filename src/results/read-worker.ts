import { parentPort } from 'node:worker_threads';
import { BatchReader, type BatchReply, type BatchRequest } from './read-batch.js';

/**
 * Worker thread of readResults (src/results/read.ts): reads the batches of files it is sent, one after
 * the other, and answers each with its compact reply. Says "ready" once loaded, so the main thread
 * knows to stop reading on its own.
 */

const port = parentPort;
if (!port) throw new Error('read-worker.ts runs as a worker thread of src/results/read.ts');
const reader = new BatchReader();
let queue = Promise.resolve();

port.on('message', (request: BatchRequest) => {
  // One batch at a time (a batch waits on the previous one only while that one loads zod). A throw is
  // a bug: the unhandled rejection ends the worker with an 'error', and read.ts rereads its batches itself.
  queue = queue.then(async () => {
    const reply: BatchReply = await reader.run(request);
    port.postMessage(reply, [reply.codes.buffer as ArrayBuffer]);
  });
});
port.postMessage('ready');
