// The OTLP/HTTP sender against a real receiver (fixtures/otlp-receiver.ts)
// that fails on cue: down, gone mid-stream, 503, 429 with Retry-After, too
// slow, 400, partial success; the bounded queue in 'drop' and 'wait' modes;
// close() against a dead backend; a failure inside the sender thread; and
// the configuration from options and OTEL_EXPORTER_OTLP_* variables. Every
// test checks the exact account: items enqueued == items the receiver
// accepted + dropped + rejected, nothing left queued. Waits are on
// conditions, never on guessed durations.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import * as net from 'node:net';
import * as path from 'node:path';
import type { Worker } from 'node:worker_threads';
import * as protobuf from 'protobufjs';
import { startReceiver, type Receiver, type ReceiverAction, type ReceiverRequest } from '../fixtures/otlp-receiver';
import { OtlpClient } from '../src/otlp/client';
import { resolveOtlpConfig, type OtlpOptions } from '../src/otlp/config';
import { OtlpSender, type SenderOptions, type SenderStats } from '../src/otlp/sender';
import { backoffMs, decodePartialSuccess, parseRetryAfter } from '../src/otlp/response';

const PROTO = path.join(__dirname, '..', '..', 'proto', 'otlp.proto');
const schema = new protobuf.Root().loadSync(PROTO, { keepCase: true });
const TraceRequest = schema.lookupType('ringtrace.otlp.ExportTraceServiceRequest');
const LogsRequest = schema.lookupType('ringtrace.otlp.ExportLogsServiceRequest');
const MetricsRequest = schema.lookupType('ringtrace.otlp.ExportMetricsServiceRequest');
const ExportResponse = schema.lookupType('ringtrace.otlp.ExportServiceResponse');

// Backoffs of tens of ms keep the file fast; give-up far away unless a test is about it.
const FAST: SenderOptions = { initialBackoffMs: 10, maxBackoffMs: 40, maxRetryElapsedMs: 20_000 };
const T = { timeout: 10_000 };

// ---- request bodies: each carries its tag as a resource attribute ----

const resource = (tag: string) => ({ attributes: [{ key: 'batch', value: { string_value: tag } }] });

function traces(tag: string, spans: number): Uint8Array {
  return TraceRequest.encode(TraceRequest.fromObject({ resource_spans: [{ resource: resource(tag), scope_spans: [{
    scope: { name: 'test' },
    spans: Array.from({ length: spans }, (_, i) => ({ trace_id: Buffer.alloc(16, 7), span_id: Buffer.alloc(8, i + 1),
      name: `${tag}-span-${i}`, kind: 1, start_time_unix_nano: 1_000 + i, end_time_unix_nano: 2_000 + i })),
  }] }] })).finish();
}

function logs(tag: string, records: number): Uint8Array {
  return LogsRequest.encode(LogsRequest.fromObject({ resource_logs: [{ resource: resource(tag), scope_logs: [{
    log_records: Array.from({ length: records }, (_, i) =>
      ({ time_unix_nano: 1_000 + i, body: { string_value: `log ${i}` } })),
  }] }] })).finish();
}

function metrics(tag: string, points: number): Uint8Array {
  return MetricsRequest.encode(MetricsRequest.fromObject({ resource_metrics: [{ resource: resource(tag), scope_metrics: [{
    metrics: [{ name: 'heap', gauge: {
      data_points: Array.from({ length: points }, (_, i) => ({ time_unix_nano: 1_000 + i, as_int: i })),
    } }],
  }] }] })).finish();
}

/** The tag of a received request (its resource's `batch` attribute). */
function tagOf(r: ReceiverRequest): string {
  const top = r.decoded.resource_spans ?? r.decoded.resource_logs ?? r.decoded.resource_metrics;
  return top[0].resource.attributes.find((kv: { key: string }) => kv.key === 'batch').value.string_value;
}

const acceptedTags = (rx: Receiver) => rx.requests.filter((r) => r.accepted).map(tagOf).sort();
const acceptedItems = (rx: Receiver) => rx.accepted.spans + rx.accepted.logRecords + rx.accepted.dataPoints;

/** The account that holds at any moment: every item (and batch) is somewhere. */
function assertBalanced(s: SenderStats): void {
  assert.equal(s.enqueuedItems, s.sentItems + s.droppedItems + s.rejectedItems + s.queuedItems + s.inFlightItems,
    `items balance: ${JSON.stringify(s)}`);
  assert.equal(s.enqueuedBatches, s.sentBatches + s.droppedBatches + s.rejectedBatches + s.queuedBatches + s.inFlight,
    `batches balance: ${JSON.stringify(s)}`);
}

/** The account that must close at the end: nothing pending, and every item accepted, dropped or rejected. */
function assertSettled(s: SenderStats, accepted: number): void {
  assertBalanced(s);
  assert.equal(s.queuedBatches + s.inFlight, 0, 'nothing queued or in flight');
  assert.equal(s.queuedItems + s.inFlightItems, 0);
  assert.equal(s.enqueuedItems, accepted + s.droppedItems + s.rejectedItems,
    `enqueued ${s.enqueuedItems} == accepted ${accepted} + dropped ${s.droppedItems} + rejected ${s.rejectedItems}`);
  for (const [signal, c] of Object.entries(s.signals)) {
    assert.equal(c.enqueuedItems, c.sentItems + c.droppedItems + c.rejectedItems, `${signal} counts add up`);
  }
}

function config(url: string, extra: OtlpOptions = {}) {
  return resolveOtlpConfig({ endpoint: url, compression: 'none', ...extra }, {});
}

/** Poll a condition (no fixed sleeps); fails the test with `what` if it does not come. */
async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const start = Date.now();
  while (!cond()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** A base URL where nothing listens (a receiver started and stopped) and the receiver, to restart there. */
async function downReceiver(): Promise<Receiver> {
  const rx = await startReceiver();
  await rx.stop();
  return rx;
}

async function withSender(rx: Receiver, extra: OtlpOptions, opts: SenderOptions,
  body: (sender: OtlpSender) => Promise<void>): Promise<void> {
  const sender = new OtlpSender(config(rx.url, extra), { ...FAST, ...opts });
  try {
    await body(sender);
  } finally {
    await sender.close(0);
    await rx.stop();
  }
}

// ---- the sender, on this thread's event loop ----

for (const compression of ['gzip', 'none'] as const) {
  test(`delivers ${compression} bodies that decode, with the configured headers, counted exactly`, T, async () => {
    const rx = await startReceiver();
    await withSender(rx, { compression, headers: ['Authorization=Bearer t0ken', 'x-tenant=a b'] }, {}, async (sender) => {
      for (let i = 0; i < 3; i++) sender.enqueue('traces', traces(`t${i}`, 20), 20);
      sender.enqueue('logs', logs('l0', 5), 5);
      sender.enqueue('metrics', metrics('m0', 7), 7);
      await sender.flush(5000);
      const s = sender.stats();
      assert.equal(rx.requests.length, 5);
      for (const r of rx.requests) {
        assert.equal(r.headers['content-type'], 'application/x-protobuf');
        assert.equal(r.headers['content-encoding'], compression === 'gzip' ? 'gzip' : undefined);
        assert.equal(r.headers['authorization'], 'Bearer t0ken');
        assert.equal(r.headers['x-tenant'], 'a b');
        assert.equal(r.error, undefined);
      }
      assert.deepEqual(acceptedTags(rx), ['l0', 'm0', 't0', 't1', 't2']);
      const t1 = rx.requests.find((r) => tagOf(r) === 't1')!;
      assert.deepEqual(t1.decoded.resource_spans[0].scope_spans[0].spans.map((x: { name: string }) => x.name),
        Array.from({ length: 20 }, (_, i) => `t1-span-${i}`));
      assert.deepEqual(rx.accepted, { spans: 60, logRecords: 5, dataPoints: 7 });
      assert.equal(s.sentBatches, 5);
      assert.equal(s.sentItems, 72);
      assert.equal(s.sentBytes, rx.requests.reduce((n, r) => n + r.wire.length, 0), 'sentBytes are wire bytes');
      if (compression === 'gzip') assert.ok(s.sentBytes < s.enqueuedBytes, 'gzip made the bodies smaller');
      assert.deepEqual(s.signals.logs, { enqueuedItems: 5, sentItems: 5, droppedItems: 0, rejectedItems: 0 });
      assert.equal(s.retries, 0);
      assert.equal(s.lastError, undefined);
      assertSettled(s, acceptedItems(rx));
    });
  });
}

test('a receiver down at the start gets every batch once it is up', T, async () => {
  const rx = await downReceiver();
  await withSender(rx, {}, {}, async (sender) => {
    for (let i = 0; i < 4; i++) sender.enqueue('traces', traces(`b${i}`, 10), 10);
    await until(() => sender.stats().retries >= 3, 'retries against the closed port');
    assert.match(sender.stats().lastError ?? '', /ECONNREFUSED/);
    await rx.restart();
    await sender.flush(5000);
    const s = sender.stats();
    assert.deepEqual(acceptedTags(rx), ['b0', 'b1', 'b2', 'b3']);
    assert.equal(s.droppedItems, 0);
    assertSettled(s, acceptedItems(rx));
  });
});

test('a receiver that goes away mid-stream and comes back loses nothing', T, async () => {
  // One request at a time, so the one cut off is the only one unanswered.
  const rx = await startReceiver({
    respond: (r) => {
      if (r.index !== 2) return { status: 200 };
      void rx.stop();
      return { destroy: true };
    },
  });
  await withSender(rx, {}, { maxInFlight: 1 }, async (sender) => {
    for (let i = 0; i < 3; i++) sender.enqueue('traces', traces(`a${i}`, 10), 10);
    await until(() => sender.stats().retries >= 2, 'retries while the receiver is away');
    for (let i = 0; i < 3; i++) sender.enqueue('traces', traces(`b${i}`, 10), 10); // queued during the outage
    await rx.restart();
    await sender.flush(5000);
    const s = sender.stats();
    assert.equal(rx.requests[2]!.accepted, false, 'the request cut off was not answered');
    assert.equal(tagOf(rx.requests[2]!), 'a2');
    assert.deepEqual(acceptedTags(rx), ['a0', 'a1', 'a2', 'b0', 'b1', 'b2'], 'each batch accepted exactly once');
    assert.equal(s.droppedItems, 0);
    assertSettled(s, acceptedItems(rx));
  });
});

test('503 is retried, then 200 delivers', T, async () => {
  const rx = await startReceiver({ respond: (r) => (r.index === 0 ? { status: 503 } : { status: 200 }) });
  await withSender(rx, {}, {}, async (sender) => {
    sender.enqueue('traces', traces('x', 10), 10);
    await sender.flush(5000);
    const s = sender.stats();
    assert.deepEqual(rx.requests.map((r) => [tagOf(r), r.status, r.accepted]), [['x', 503, false], ['x', 200, true]]);
    assert.equal(s.retries, 1);
    assert.match(s.lastError ?? '', /HTTP 503/);
    assertSettled(s, acceptedItems(rx));
  });
});

test('429 with Retry-After waits as long as the header says (not the shorter backoff)', T, async () => {
  const rx = await startReceiver({ respond: (r) => (r.index === 0 ? { status: 429, retryAfter: '1' } : { status: 200 }) });
  await withSender(rx, {}, {}, async (sender) => {
    sender.enqueue('traces', traces('x', 10), 10);
    await sender.flush(5000);
    const [first, retry] = rx.requests;
    assert.equal(rx.requests.length, 2);
    // A lower bound only; 5 ms of slack for Date.now's whole-ms steps against performance.now.
    const waited = retry!.at - first!.at;
    assert.ok(waited >= 1000 - 5, `retried after ${waited.toFixed(1)} ms, Retry-After said 1 s (backoff alone: <= 40 ms)`);
    assert.equal(sender.stats().retries, 1);
    assertSettled(sender.stats(), acceptedItems(rx));
  });
});

test('an answer slower than timeoutMs is abandoned and the batch sent again (at-least-once)', T, async () => {
  // The first copy is answered only once the sender has hung up on it: it reached the receiver but
  // was never acknowledged, so the receiver holds it twice and accepted it once.
  const rx = await startReceiver({
    respond: (r) => (r.index === 0 ? r.disconnected.then((): ReceiverAction => ({ status: 200 })) : { status: 200 }),
  });
  await withSender(rx, { timeoutMs: 200 }, {}, async (sender) => {
    sender.enqueue('traces', traces('slow', 10), 10);
    await sender.flush(5000);
    const s = sender.stats();
    assert.deepEqual(rx.requests.map((r) => [tagOf(r), r.accepted]), [['slow', false], ['slow', true]]);
    assert.equal(s.retries, 1);
    assert.match(s.lastError ?? '', /no response within 200 ms/);
    const copiesReceived = rx.requests.length;
    const copiesAcknowledged = rx.requests.filter((r) => r.accepted).length;
    assert.equal(copiesReceived - copiesAcknowledged, 1, 'one duplicate, the unacknowledged copy');
    assertSettled(s, acceptedItems(rx));
  });
});

for (const status of [400, 404, 413, 500]) {
  test(`HTTP ${status} rejects the batch without retrying it`, T, async () => {
    const rx = await startReceiver({
      respond: () => ({ status, body: Buffer.from('bad things'), contentType: 'text/plain' }),
    });
    await withSender(rx, {}, {}, async (sender) => {
      sender.enqueue('traces', traces('t', 10), 10);
      sender.enqueue('logs', logs('l', 4), 4);
      await sender.flush(5000);
      const s = sender.stats();
      assert.equal(rx.requests.length, 2, 'one request per batch');
      assert.equal(s.retries, 0);
      assert.equal(s.rejectedItems, 14);
      assert.equal(s.rejectedBatches, 2);
      assert.equal(s.sentItems, 0);
      const e = s.lastError ?? '';
      assert.ok(e.includes(`HTTP ${status}`) && e.includes(`${rx.url}/v1/`) && e.includes('bad things'), e);
      assertSettled(s, acceptedItems(rx));
    });
  });
}

test('a partial success counts the rejected items and keeps the backend\'s message', T, async () => {
  const partial = (rejected: number, message: string) =>
    ExportResponse.encode(ExportResponse.fromObject({ partial_success: { rejected, error_message: message } })).finish();
  const rx = await startReceiver({
    respond: (r) => ({ status: 200, body: r.index === 0 ? partial(3, 'spans too old') : partial(0, 'slow down a bit') }),
  });
  await withSender(rx, {}, { maxInFlight: 1 }, async (sender) => {
    sender.enqueue('traces', traces('p', 10), 10);
    await sender.flush(5000);
    let s = sender.stats();
    assert.equal(s.sentBatches, 1);
    assert.equal(s.sentItems, 7);
    assert.equal(s.rejectedItems, 3);
    assert.match(s.lastError ?? '', /rejected 3 of 10 spans: spans too old/);
    // The receiver took the request; the backend's own account says 3 of its items were refused.
    assert.equal(rx.accepted.spans, 10);
    assertSettled(s, acceptedItems(rx) - 3);

    sender.enqueue('logs', logs('w', 4), 4); // rejected 0 with a message: a warning
    await sender.flush(5000);
    s = sender.stats();
    assert.equal(s.signals.logs.sentItems, 4);
    assert.match(s.lastError ?? '', /warning: slow down a bit/);
    assertSettled(s, acceptedItems(rx) - 3);
  });
});

test('a signal without an endpoint is rejected with the variable to set', T, async () => {
  const rx = await startReceiver();
  const cfg = resolveOtlpConfig({ compression: 'none' }, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${rx.url}/v1/traces` });
  const sender = new OtlpSender(cfg, FAST);
  try {
    sender.enqueue('traces', traces('t', 2), 2);
    sender.enqueue('logs', logs('l', 3), 3);
    await sender.flush(5000);
    const s = sender.stats();
    assert.equal(s.signals.logs.rejectedItems, 3);
    assert.equal(s.signals.traces.sentItems, 2);
    assert.match(s.lastError ?? '', /no OTLP endpoint for logs .*OTEL_EXPORTER_OTLP_LOGS_ENDPOINT/);
    assertSettled(s, acceptedItems(rx));
  } finally {
    await sender.close(0);
    await rx.stop();
  }
});

test('enqueue never throws on a bad batch, and counts it as dropped', T, async () => {
  const rx = await startReceiver();
  await withSender(rx, {}, {}, async (sender) => {
    sender.enqueue('spans' as never, new Uint8Array(1), 1);
    sender.enqueue('traces', 'not bytes' as never, 2);
    await sender.flush(5000);
    const s = sender.stats();
    assert.equal(s.droppedItems, 3);
    assert.match(s.lastError ?? '', /not a batch/);
    assertSettled(s, acceptedItems(rx));
  });
});

for (const compression of ['gzip', 'none'] as const) {
  test(`${compression}: each body is given back once, when the sender is done with it (delivered, dropped, rejected)`, T,
    async () => {
      const rx = await startReceiver();
      const cfg = resolveOtlpConfig({ compression }, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: `${rx.url}/v1/traces` });
      const sender = new OtlpSender(cfg, { ...FAST, maxQueueBytes: 1 });
      const given: Uint8Array[] = [];
      const seen: string[] = []; // what the sender had counted when each came back
      const release = (b: Uint8Array) => {
        given.push(b);
        const st = sender.stats();
        seen.push(`${st.sentBatches}/${st.droppedBatches}/${st.rejectedBatches}`);
      };
      try {
        // l (logs have no endpoint) is rejected at once; a and b go in flight (two connections); of c and d,
        // queued over a 1-byte bound, c is dropped.
        const bodies = [logs('l', 2), traces('a', 3), traces('b', 3), traces('c', 3), traces('d', 3)];
        for (const [i, b] of bodies.entries()) sender.enqueue(i === 0 ? 'logs' : 'traces', b, i === 0 ? 2 : 3, release);
        await sender.flush(5000);
        const s = sender.stats();
        assert.deepEqual([s.sentBatches, s.droppedBatches, s.rejectedBatches], [3, 1, 1]);
        assert.equal(given.length, 5, 'every body came back');
        for (const b of bodies) assert.equal(given.filter((g) => g === b).length, 1, 'the same memory, once');
        if (compression === 'none') { // a delivered body comes back only after its answer was counted
          const delivered = [bodies[1], bodies[2], bodies[4]].map((b) => seen[given.indexOf(b!)]!);
          for (const at of delivered) assert.ok(Number(at.split('/')[0]) >= 1, `given back before it was sent: ${at}`);
        }
        assertSettled(s, acceptedItems(rx));
      } finally {
        await sender.close(0);
        await rx.stop();
      }
    });
}

test('a body still being written when its batch ends is never given back', T, async () => {
  // A peer that accepts and never reads: 64 MiB cannot all go into the socket buffers, so the write is
  // pending when the timeout aborts each attempt, until the batch is given up and dropped.
  const sockets = new Set<net.Socket>();
  const server = net.createServer((c) => {
    sockets.add(c);
    c.pause();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  const sender = new OtlpSender(config(url, { timeoutMs: 100 }), { ...FAST, maxRetryElapsedMs: 300 });
  const given: Uint8Array[] = [];
  try {
    sender.enqueue('traces', new Uint8Array(64 << 20), 1, (b) => given.push(b));
    sender.enqueue('traces', new Uint8Array(64 << 20), 1, (b) => given.push(b));
    await sender.flush(5000);
    const s = sender.stats();
    assert.equal(s.droppedBatches, 2, s.lastError);
    assert.ok(s.retries >= 2, 'attempts were aborted mid-write and tried again');
    assert.equal(given.length, 0, 'aborted mid-write: not given back');
  } finally {
    await sender.close(0);
    for (const c of sockets) c.destroy();
    server.close();
  }
});

// ---- the client: the sender on its own thread ----

function assertClientSettled(s: SenderStats, rx: Receiver | undefined): void {
  assertSettled(s, rx ? acceptedItems(rx) : 0);
}

test('the client sends through its thread, stats read synchronously; whole buffers move, others are copied', T, async () => {
  const rx = await startReceiver();
  const client = new OtlpClient(config(rx.url, { compression: 'gzip', headers: ['x-k=v'] }), { mode: 'drop', ...FAST });
  try {
    const pooled = Buffer.from(traces('pooled', 5)); // part of Node's shared pool: copied
    const whole = new Uint8Array(traces('whole', 6)); // the whole of its ArrayBuffer: moved
    client.send('traces', pooled, 5);
    client.send('traces', whole, 6);
    client.send('metrics', metrics('m', 3), 3);
    assert.equal(pooled.length, traces('pooled', 5).length, 'a copied body stays usable');
    assert.equal(whole.byteLength, 0, 'a moved body is detached here');
    assertBalanced(client.stats()); // batches on their way to the thread count as queued
    await rx.until(() => rx.accepted.spans === 11 && rx.accepted.dataPoints === 3);
    await until(() => client.stats().sentBatches === 3, 'the sender thread to see the answers');
    const s = client.close(1000);
    assert.deepEqual(acceptedTags(rx), ['m', 'pooled', 'whole']);
    assert.equal(rx.requests[0]!.headers['x-k'], 'v');
    assert.equal(s.sentItems, 14);
    assert.equal(s.lastError, undefined);
    assertClientSettled(s, rx);
    assert.deepEqual(client.stats(), s, 'stats after close are the final ones');
  } finally {
    await rx.stop();
  }
});

test('the client: a given body moves in its larger buffer, only its bytes are sent, and the buffer comes back', T,
  async () => {
    const rx = await startReceiver();
    const client = new OtlpClient(config(rx.url, { compression: 'gzip' }), { mode: 'drop', ...FAST });
    try {
      assert.equal(client.spareBuffer(0), undefined, 'nothing given back yet');
      const body = traces('given', 4);
      const buffer = new ArrayBuffer(body.length + 1000);
      new Uint8Array(buffer).fill(0xff).set(body); // what follows the body is not protobuf: sent, it would not decode
      client.send('traces', new Uint8Array(buffer, 0, body.length), 4, true);
      assert.equal(buffer.byteLength, 0, 'moved, not copied');
      await rx.until(() => rx.accepted.spans === 4);
      let back: ArrayBuffer | undefined;
      await until(() => (back = client.spareBuffer(body.length)) !== undefined, 'the buffer to come back');
      assert.equal(back!.byteLength, body.length + 1000, 'the whole buffer');
      assert.ok(Buffer.from(back!, 0, body.length).equals(body), 'its memory, as it was');
      assert.equal(client.spareBuffer(0), undefined, 'taken once');
      assert.equal(rx.requests[0]!.error, undefined, 'the body alone was sent (decoded strictly)');
      assertClientSettled(client.close(1000), rx);
    } finally {
      await rx.stop();
    }
  });

test('\'drop\' mode: over maxQueueBytes the OLDEST queued batches are dropped, the newest kept', T, async () => {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const rx = await startReceiver({ respond: async () => (await released, { status: 200 }) });
  const bodies = Array.from({ length: 10 }, (_, i) => traces(`b${10 + i}`, 5)); // same size each
  const size = bodies[0]!.length;
  const client = new OtlpClient(config(rx.url), { mode: 'drop', maxQueueBytes: 3 * size, ...FAST });
  try {
    // b10 and b11 go in flight (held by the receiver); b12..b19 queue, 3 fit.
    for (const b of bodies) client.send('traces', b, 5);
    await rx.until(() => rx.requests.length === 2);
    await until(() => client.stats().droppedBatches === 5 && client.stats().queuedBatches === 3, 'the overflow');
    assertBalanced(client.stats());
    release();
    await rx.until(() => rx.accepted.spans === 25);
    await until(() => client.stats().sentBatches === 5, 'the sender thread to see the answers');
    const s = client.close(1000);
    assert.deepEqual(acceptedTags(rx), ['b10', 'b11', 'b17', 'b18', 'b19'], 'b12..b16, the oldest queued, dropped');
    assert.equal(s.droppedBatches, 5);
    assert.equal(s.droppedItems, 25);
    assert.match(s.lastError ?? '', /dropped the \d+ oldest batches/);
    assertClientSettled(s, rx);
  } finally {
    await rx.stop();
  }
});

test('\'wait\' mode: a synchronous producer waits for room and nothing is dropped for overflow', T, async () => {
  // The producer is a separate process, as a file export is: its send() blocks its thread,
  // while this process's receiver answers, each answer 5 ms late so that the queue fills.
  const rx = await startReceiver({ respond: () => ({ delayMs: 5, then: { status: 200 } }) });
  const script = `
    const protobuf = require(${JSON.stringify(require.resolve('protobufjs'))});
    const { OtlpClient } = require(${JSON.stringify(path.join(__dirname, '..', 'src', 'otlp', 'client.js'))});
    const { resolveOtlpConfig } = require(${JSON.stringify(path.join(__dirname, '..', 'src', 'otlp', 'config.js'))});
    const T = new protobuf.Root().loadSync(${JSON.stringify(PROTO)}, { keepCase: true })
      .lookupType('ringtrace.otlp.ExportTraceServiceRequest');
    const body = (i) => T.encode(T.fromObject({ resource_spans: [{
      resource: { attributes: [{ key: 'batch', value: { string_value: 'w' + (100 + i) } }] },
      scope_spans: [{ spans: Array.from({ length: 8 }, (_, k) => ({ name: 's' + k })) }] }] })).finish();
    const size = body(0).length;
    const client = new OtlpClient(resolveOtlpConfig({ endpoint: ${JSON.stringify(rx.url)}, compression: 'none' }, {}),
      { mode: 'wait', maxQueueBytes: 2 * size, initialBackoffMs: 10, maxBackoffMs: 40 });
    let maxPending = 0;
    for (let i = 0; i < 30; i++) {
      client.send('traces', body(i), 8);
      const s = client.stats();
      maxPending = Math.max(maxPending, s.queuedBytes + s.inFlightBytes);
    }
    console.log(JSON.stringify({ final: client.close(5000), maxPending, size }));`;
  try {
    const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const [code] = await once(child, 'exit');
    assert.equal(code, 0);
    const { final, maxPending, size } = JSON.parse(out) as { final: SenderStats; maxPending: number; size: number };
    assert.ok(maxPending <= 2 * size, `never more than maxQueueBytes pending (${maxPending} > ${2 * size})`);
    assert.equal(final.droppedItems, 0);
    assert.equal(final.sentItems, 240);
    assert.equal(rx.accepted.spans, 240);
    assert.equal(new Set(acceptedTags(rx)).size, 30);
    assertClientSettled(final, rx);
  } finally {
    await rx.stop();
  }
});

test('\'wait\' mode never waits forever: batches given up on free room', T, async () => {
  const rx = await downReceiver();
  const size = traces('g0', 4).length;
  const client = new OtlpClient(config(rx.url),
    { mode: 'wait', maxQueueBytes: size, initialBackoffMs: 10, maxBackoffMs: 20, maxRetryElapsedMs: 150 });
  for (let i = 0; i < 4; i++) client.send('traces', traces(`g${i}`, 4), 4); // each waits for the one before to be given up
  const s = client.close(1000);
  assert.equal(s.droppedItems, 16);
  assert.equal(s.droppedBatches, 4);
  assert.match(s.lastError ?? '', /gave up on 4 spans after 150 ms of failures; last error: .*ECONNREFUSED/);
  assertClientSettled(s, undefined);
});

test('close() with the receiver down returns by its deadline and counts what is left as dropped', T, async () => {
  const rx = await downReceiver();
  const client = new OtlpClient(config(rx.url), { mode: 'drop', ...FAST });
  for (let i = 0; i < 5; i++) client.send('traces', traces(`c${i}`, 10), 10);
  await until(() => client.stats().retries >= 2, 'retries against the closed port');
  const started = Date.now();
  const s = client.close(300);
  const took = Date.now() - started;
  assert.ok(took < 300 + 200, `close(300) took ${took} ms`); // bounded by design; the slack is for a loaded machine
  assert.equal(s.sentItems, 0);
  assert.equal(s.droppedItems, 50);
  // The sender thread's own account, or (its thread too slow to report on a loaded machine) this side's.
  assert.match(s.lastError ?? '', new RegExp('(did not take 50 items \\(5 batches\\) before the deadline' +
    '|did not finish within the 300 ms deadline: 50 items not delivered); last error: .*ECONNREFUSED'));
  assertClientSettled(s, undefined);
  client.send('traces', traces('late', 1), 1); // after close: dropped, not thrown
  assert.equal(client.stats().droppedItems, 50, 'the final stats stay final');
});

test('a failure inside the sender thread reaches the caller only as lastError and dropped items', T, async () => {
  const rx = await downReceiver();
  const client = new OtlpClient(config(rx.url), { mode: 'wait', ...FAST });
  for (let i = 0; i < 3; i++) client.send('traces', traces(`f${i}`, 10), 10);
  const worker = (client as unknown as { worker: Worker }).worker;
  worker.ref(); // the unref'd worker's 'exit' event alone would not keep this test's event loop alive
  await worker.terminate(); // the thread gone without a word, as a crash or a kill leaves it
  await until(() => /exited/.test(client.stats().lastError ?? ''), 'the failure to show');
  client.send('logs', logs('after', 2), 2); // no thread to take it: dropped at once, even in 'wait' mode
  const s = client.stats();
  assert.match(s.lastError ?? '', /the OTLP sender thread exited/);
  assert.equal(s.droppedItems, 32);
  assertClientSettled(s, undefined);
  const final = client.close(1000);
  assert.equal(final.droppedItems, 32);
  assertClientSettled(final, undefined);
});

// ---- pieces ----

test('Retry-After: delta-seconds and HTTP-dates; backoff doubles within ±20 % up to its cap', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');
  assert.equal(parseRetryAfter('3', now), 3000);
  assert.equal(parseRetryAfter(' 0 ', now), 0);
  assert.equal(parseRetryAfter('Wed, 01 Jan 2025 00:00:07 GMT', now), 7000);
  assert.equal(parseRetryAfter('Tue, 31 Dec 2024 23:59:00 GMT', now), 0, 'a date in the past: at once');
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter(undefined, now), undefined);
  assert.equal(backoffMs(1, 100, 1000, () => 0), 80);
  assert.equal(backoffMs(1, 100, 1000, () => 1), 120);
  assert.equal(backoffMs(3, 100, 1000, () => 0.5), 400);
  assert.equal(backoffMs(40, 100, 1000, () => 1), 1000);
});

test('partial success decoding: present, absent, malformed', () => {
  const body = ExportResponse.encode(ExportResponse.fromObject({ partial_success: { rejected: 12, error_message: 'why' } }))
    .finish();
  assert.deepEqual(decodePartialSuccess(body), { rejected: 12, message: 'why' });
  assert.equal(decodePartialSuccess(new Uint8Array(0)), undefined);
  assert.throws(() => decodePartialSuccess(Uint8Array.from([0x0a, 0x05, 0x08])));
});

// ---- configuration ----

test('config: the base endpoint gets /v1/<signal> (one slash), per-signal ones are used as given', () => {
  const c = resolveOtlpConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' });
  assert.deepEqual(c.urls, { traces: 'http://collector:4318/v1/traces', logs: 'http://collector:4318/v1/logs',
    metrics: 'http://collector:4318/v1/metrics' });
  assert.equal(resolveOtlpConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'https://h/otlp//' }).urls.logs,
    'https://h/otlp/v1/logs');
  assert.equal(resolveOtlpConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://h' }).urls.traces, 'http://h/v1/traces',
    'no port filled in');
  const mixed = resolveOtlpConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://base:1',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:2/custom', OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: '' });
  assert.deepEqual(mixed.urls,
    { traces: 'http://t:2/custom', logs: 'http://base:1/v1/logs', metrics: 'http://base:1/v1/metrics' });
  const only = resolveOtlpConfig({}, { OTEL_EXPORTER_OTLP_LOGS_ENDPOINT: 'http://l:3' });
  assert.deepEqual(only.urls, { traces: '', logs: 'http://l:3', metrics: '' });
  const explicit = resolveOtlpConfig({ endpoint: 'http://cli:9' }, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://env:1',
    OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://env:2/x' });
  assert.equal(explicit.urls.traces, 'http://cli:9/v1/traces', '--endpoint wins over every variable');
});

test('config: headers, compression and timeout from the environment, options winning', () => {
  const env = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://h:1', OTEL_EXPORTER_OTLP_HEADERS: 'api-key=a%20b%2Cc, X-Tenant = t1 ,,',
    OTEL_EXPORTER_OTLP_COMPRESSION: 'none', OTEL_EXPORTER_OTLP_TIMEOUT: '2500' };
  // No signal has variables of its own here: every signal's settings are the general ones.
  for (const signal of ['traces', 'logs', 'metrics'] as const) {
    const c = resolveOtlpConfig({}, env).signals[signal];
    assert.deepEqual(c.headers, { 'api-key': 'a b,c', 'x-tenant': 't1' });
    assert.equal(c.compression, 'none');
    assert.equal(c.timeoutMs, 2500);
    const o = resolveOtlpConfig({ headers: ['X-Tenant=t2', 'raw=%41'], compression: 'gzip', timeoutMs: 50 }, env).signals[signal];
    assert.deepEqual(o.headers, { 'api-key': 'a b,c', 'x-tenant': 't2', raw: '%41' }, 'explicit values are literal');
    assert.equal(o.compression, 'gzip');
    assert.equal(o.timeoutMs, 50);
    const d = resolveOtlpConfig({ endpoint: 'http://h:1' },
      { OTEL_EXPORTER_OTLP_TIMEOUT: '', OTEL_EXPORTER_OTLP_COMPRESSION: '' }).signals[signal];
    assert.equal(d.compression, 'gzip');
    assert.equal(d.timeoutMs, 10_000);
  }
});

test("each signal's own variables: headers, compression and timeout over the general ones, options over both", T,
  async () => {
    const rx = await startReceiver();
    const env = { OTEL_EXPORTER_OTLP_HEADERS: 'x-all=1,x-team=general', OTEL_EXPORTER_OTLP_TRACES_HEADERS: 'X-Team=traces,x-only=t',
      OTEL_EXPORTER_OTLP_COMPRESSION: 'gzip', OTEL_EXPORTER_OTLP_LOGS_COMPRESSION: 'none',
      OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: '1234', OTEL_EXPORTER_OTLP_LOGS_HEADERS: '' };
    const c = resolveOtlpConfig({ endpoint: rx.url }, env);
    assert.deepEqual(c.signals.metrics.headers, { 'x-all': '1', 'x-team': 'general' }, 'the general settings');
    assert.deepEqual(c.signals.traces.headers, { 'x-all': '1', 'x-team': 'traces', 'x-only': 't' });
    assert.deepEqual(c.signals.logs.headers, { 'x-all': '1', 'x-team': 'general' }, 'an empty variable is unset');
    assert.deepEqual([c.signals.traces.compression, c.signals.logs.compression, c.signals.metrics.compression],
      ['gzip', 'none', 'gzip']);
    assert.deepEqual([c.signals.traces.timeoutMs, c.signals.metrics.timeoutMs], [10_000, 1234]);
    const o = resolveOtlpConfig({ endpoint: rx.url, headers: ['x-team=cli'], compression: 'gzip', timeoutMs: 50 }, env);
    assert.equal(o.signals.traces.headers['x-team'], 'cli');
    assert.equal(o.signals.logs.compression, 'gzip');
    assert.equal(o.signals.metrics.timeoutMs, 50);
    assert.throws(() => resolveOtlpConfig({ endpoint: rx.url }, { OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: 'soon' }),
      /OTEL_EXPORTER_OTLP_METRICS_TIMEOUT: 'soon'/);
    assert.throws(() => resolveOtlpConfig({ endpoint: rx.url }, { OTEL_EXPORTER_OTLP_LOGS_HEADERS: 'a=%zz' }),
      /OTEL_EXPORTER_OTLP_LOGS_HEADERS: .*'a'.*URL encoding/);
    const sender = new OtlpSender(c, FAST); // what each signal's requests carry
    try {
      sender.enqueue('traces', traces('t0', 3), 3);
      sender.enqueue('logs', logs('l0', 2), 2);
      sender.enqueue('metrics', metrics('m0', 1), 1);
      await sender.flush(5000);
      const by = (signal: string) => rx.requests.find((r) => r.signal === signal)!;
      assert.deepEqual([by('traces').headers['x-team'], by('traces').headers['x-only'], by('traces').headers['content-encoding']],
        ['traces', 't', 'gzip']);
      assert.deepEqual([by('logs').headers['x-team'], by('logs').headers['x-only'], by('logs').headers['content-encoding']],
        ['general', undefined, undefined]);
      assert.deepEqual([by('metrics').headers['x-all'], by('metrics').headers['content-encoding']], ['1', 'gzip']);
      for (const r of rx.requests) assert.equal(r.error, undefined);
    } finally {
      await sender.close(0);
      await rx.stop();
    }
  });

test('config: clear errors for what cannot work', () => {
  const bad = (opts: OtlpOptions, env: Record<string, string>, message: RegExp) =>
    assert.throws(() => resolveOtlpConfig(opts, env), message);
  bad({}, {}, /--endpoint.*OTEL_EXPORTER_OTLP_ENDPOINT/);
  bad({}, { OTEL_EXPORTER_OTLP_ENDPOINT: '' }, /no OTLP endpoint/);
  bad({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://h:4317', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' },
    /OTEL_EXPORTER_OTLP_PROTOCOL=grpc: ringtrace sends OTLP over HTTP/);
  bad({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://h:4317', OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: ' GRPC' },
    /OTEL_EXPORTER_OTLP_TRACES_PROTOCOL=grpc/);
  assert.equal(resolveOtlpConfig({ endpoint: 'http://h:4318' }, { OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc' }).urls.traces,
    'http://h:4318/v1/traces', 'an explicit --endpoint is the user\'s choice');
  assert.equal(resolveOtlpConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://h:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'grpc',
    OTEL_EXPORTER_OTLP_TRACES_PROTOCOL: 'http/protobuf', OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'http/protobuf',
    OTEL_EXPORTER_OTLP_METRICS_PROTOCOL: 'http/protobuf' }).urls.metrics, 'http://h:4318/v1/metrics',
  'each signal\'s own protocol over the general one');
  assert.equal(resolveOtlpConfig({}, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t:4318/v1/traces',
    OTEL_EXPORTER_OTLP_LOGS_PROTOCOL: 'grpc' }).urls.traces, 'http://t:4318/v1/traces', 'grpc for a signal not sent');
  bad({ endpointOption: '--otlp' }, {}, /no OTLP endpoint: pass --otlp URL/);
  bad({ endpoint: 'ftp://x', endpointOption: '--otlp' }, {}, /^Error: --otlp: 'ftp:\/\/x' is not an http: or https: URL/);
  assert.equal(resolveOtlpConfig({}, { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://h:4318', OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json' })
    .urls.logs, 'http://h:4318/v1/logs');
  bad({ endpoint: 'ftp://h' }, {}, /--endpoint: 'ftp:\/\/h' is not an http: or https: URL/);
  bad({ endpoint: 'localhost 4318' }, {}, /--endpoint: 'localhost 4318' is not a URL/);
  bad({}, { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'grpc://h' }, /OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: .*http: or https:/);
  bad({ endpoint: 'http://h', headers: ['novalue'] }, {}, /--header: 'novalue' is not name=value/);
  bad({ endpoint: 'http://h', headers: ['bad name=1'] }, {}, /'bad name' .*not a valid HTTP header name/);
  bad({ endpoint: 'http://h', headers: ['ok=line\nbreak'] }, {}, /value of header 'ok'/);
  bad({ endpoint: 'http://h' }, { OTEL_EXPORTER_OTLP_HEADERS: 'a=1,b' },
    /OTEL_EXPORTER_OTLP_HEADERS: 'b' is not name=value/);
  bad({ endpoint: 'http://h' }, { OTEL_EXPORTER_OTLP_HEADERS: 'a=%zz' }, /OTEL_EXPORTER_OTLP_HEADERS: .*'a'.*URL encoding/);
  bad({ endpoint: 'http://h' }, { OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd' }, /OTEL_EXPORTER_OTLP_COMPRESSION: 'zstd'/);
  bad({ endpoint: 'http://h' }, { OTEL_EXPORTER_OTLP_TIMEOUT: '10s' }, /OTEL_EXPORTER_OTLP_TIMEOUT: '10s'/);
  bad({ endpoint: 'http://h', timeoutMs: 0 }, {}, /timeoutMs/);
});
