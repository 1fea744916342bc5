// What the OTLP commands say in words (cli/otlp-lines.ts): the summary, the
// status line while recording, where requests go, what had no endpoint.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { destinationLine, liveStatus, noEndpointLine, sentLine } from '../cli/otlp-lines';
import { emptyStats } from '../src/otlp/sender-stats';
import { emptySummary } from '../src/otlp/builder';

const stats = (over: Partial<ReturnType<typeof emptyStats>>) => ({ ...emptyStats(), ...over });

test('the summary and the status line name what was sent, retried, dropped, rejected and queued', () => {
  assert.equal(sentLine(stats({ sentItems: 10, sentBatches: 2, sentBytes: 1_500_000 })),
    '10 items in 2 requests (1.5 MB sent)');
  assert.equal(sentLine(stats({ sentItems: 1, sentBatches: 1 })), '1 item in 1 request (0.0 MB sent)');
  assert.equal(sentLine(stats({ sentItems: 3, sentBatches: 1, retries: 4, droppedItems: 5, rejectedItems: 6 })),
    '3 items in 1 request (0.0 MB sent), 4 retries, 5 dropped, 6 rejected by the backend');
  assert.equal(liveStatus(undefined), '  otlp: starting');
  const live = (sent: ReturnType<typeof emptyStats>) => ({ events: 0, summary: emptySummary(), sent, errors: [] });
  assert.equal(liveStatus(live(stats({ sentItems: 7 }))), '  otlp: sent 7');
  assert.equal(liveStatus(live(stats({ sentItems: 7, retries: 2, droppedItems: 3, queuedBatches: 1 }))),
    '  otlp: sent 7 retried 2 dropped 3 queued 1');
  const unsent = { ...live(stats({ sentItems: 7 })), summary: { ...emptySummary(), noEndpointItems: 4 } };
  assert.equal(liveStatus(unsent), '  otlp: sent 7 no endpoint 4');
});

test('where requests go: one base for the three signals, else each signal that has a URL', () => {
  const base = 'http://c:4318';
  assert.equal(destinationLine({ traces: `${base}/v1/traces`, logs: `${base}/v1/logs`, metrics: `${base}/v1/metrics` }),
    base);
  assert.equal(destinationLine({ traces: 'http://t/custom', logs: `${base}/v1/logs`, metrics: `${base}/v1/metrics` }),
    `traces http://t/custom, logs ${base}/v1/logs, metrics ${base}/v1/metrics`);
  assert.equal(destinationLine({ traces: `${base}/v1/traces`, logs: '', metrics: '' }), `traces ${base}/v1/traces`);
});

test('items without an endpoint: said with the variables that would send them, nothing said when there are none', () => {
  const urls = { traces: 'http://t/v1/traces', logs: '', metrics: '' };
  assert.equal(noEndpointLine(4, urls), '4 items not sent: no endpoint for logs or metrics (set --endpoint, ' +
    'OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT)');
  assert.equal(noEndpointLine(1, urls), '1 item not sent: no endpoint for logs or metrics (set --endpoint, ' +
    'OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_LOGS_ENDPOINT, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT)');
  assert.equal(noEndpointLine(0, urls), undefined);
  assert.equal(noEndpointLine(4, { traces: 'a', logs: 'b', metrics: 'c' }), undefined);
});
