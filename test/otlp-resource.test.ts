// The OTLP resource the user chooses: --service-name over OTEL_SERVICE_NAME
// over service.name in OTEL_RESOURCE_ATTRIBUTES, the variable's other pairs on
// every process, over the app's own attributes and under what ringtrace
// knows of the process; malformed variables are errors naming them.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { resolveResourceChoice } from '../src/otlp/resource-choice';
import { Resources } from '../src/otlp/resource';

const log = { processes: new Map([[41, 'server.js --port 1']]), threads: new Map<number, string>() };
const env = { hostname: 'h1', session: 's1' };

test('resource choice: --service-name, then OTEL_SERVICE_NAME, then service.name of OTEL_RESOURCE_ATTRIBUTES', () => {
  const vars = { OTEL_SERVICE_NAME: 'from-var', OTEL_RESOURCE_ATTRIBUTES: 'service.name=from-attrs,team=pay' };
  assert.equal(resolveResourceChoice('from-option', vars).serviceName, 'from-option');
  assert.equal(resolveResourceChoice(undefined, vars).serviceName, 'from-var');
  assert.equal(resolveResourceChoice(undefined, { ...vars, OTEL_SERVICE_NAME: '' }).serviceName, 'from-attrs');
  assert.deepEqual(resolveResourceChoice(undefined, {}), { attributes: [] });
});

test('resource choice: OTEL_RESOURCE_ATTRIBUTES pairs trimmed and URL-decoded, the last value of a key kept', () => {
  const c = resolveResourceChoice(undefined,
    { OTEL_RESOURCE_ATTRIBUTES: ' deployment.environment = prod , note=a%20b%2Cc,,team=x,team=pay,empty=' });
  assert.deepEqual(c.attributes, [['deployment.environment', 'prod'], ['note', 'a b,c'], ['team', 'pay'], ['empty', '']]);
  assert.throws(() => resolveResourceChoice(undefined, { OTEL_RESOURCE_ATTRIBUTES: 'team' }),
    /OTEL_RESOURCE_ATTRIBUTES: 'team' is not key=value/);
  assert.throws(() => resolveResourceChoice(undefined, { OTEL_RESOURCE_ATTRIBUTES: '=v' }), /not key=value/);
  assert.throws(() => resolveResourceChoice(undefined, { OTEL_RESOURCE_ATTRIBUTES: 'k=%zz' }),
    /OTEL_RESOURCE_ATTRIBUTES: the value of 'k' is not valid URL encoding/);
});

test('resources: the chosen attributes over the app\'s own, under the process\'s facts', () => {
  const choice = resolveResourceChoice(undefined,
    { OTEL_RESOURCE_ATTRIBUTES: 'team=pay,region=eu,process.pid=1,host.name=elsewhere' });
  const r = new Resources(choice, env, log);
  r.setRecorded(41, JSON.stringify({ 'service.name': 'shop', region: 'us', 'telemetry.sdk.name': 'ringtrace' }));
  assert.deepEqual(Object.fromEntries(r.of(41)), {
    'service.name': 'shop', region: 'eu', 'telemetry.sdk.name': 'ringtrace', team: 'pay', 'process.pid': 41,
    'process.command': 'server.js --port 1', 'host.name': 'h1', 'ringtrace.session': 's1',
  });
  const named = new Resources(resolveResourceChoice(undefined, { OTEL_SERVICE_NAME: 'api' }), env, log);
  named.setRecorded(41, JSON.stringify({ 'service.name': 'shop' }));
  assert.equal(Object.fromEntries(named.of(41))['service.name'], 'api', 'the user\'s choice over the app\'s');
  assert.equal(Object.fromEntries(new Resources({}, env, log).of(41))['service.name'], 'server');
});
