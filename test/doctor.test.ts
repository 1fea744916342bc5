// trace-consume doctor: its checks (doctor-checks.ts) over real records of the
// JS emit path, unchanged and with anomalies put in, and whole doctor runs
// pinned to one CPU and forced to migrate between CPUs: a thread that
// migrates writes into several rings, which is no clock problem.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import * as os from 'node:os';
import * as path from 'node:path';
import { checkRecords, type DeliveredRecord, type Expectation } from '../cli/doctor-checks';
import { doctorArgs, doctorEvent } from '../cli/doctor-emitter';
import { currentTracer } from '../src/tracer';
import { Session } from '../src/session';
import { uniqueName } from '../fixtures/trace-helpers';

const cli = path.join(__dirname, '..', 'cli', 'trace-consume.js');
const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0;
const cpus = os.availableParallelism();

/** Records emitted through the real API by this thread as thread 0 (seq 0..n-1), in delivery order. */
function realRecords(n: number): { records: DeliveredRecord[]; exp: Expectation } {
  const name = uniqueName('doctor');
  const session = Session.create(name, { subBufferSize: 64 * 1024, subBuffers: 4 });
  try {
    process.env['RINGTRACE_SESSION'] = name; // this test file's first tracer use
    const ev = doctorEvent();
    currentTracer().poll();
    assert.ok(ev.enabled, 'attached');
    for (let seq = 0; seq < n; seq++) ev.emit(...doctorArgs(0, seq));
    const records = [...session.consumer().drain(true)].map((r) => ({ ...r, payload: Buffer.from(r.payload) }));
    const classes = session.classes();
    return { records, exp: { classId: ev.id, classes, emitted: [n], pid: process.pid } };
  } finally {
    session.remove();
    session.close();
  }
}

const { records: good, exp } = realRecords(50);
const check = (records: DeliveredRecord[], lost = 0) => checkRecords(records, exp, lost);
/** A copy of record i with changes. */
const edit = (i: number, change: Partial<DeliveredRecord>): DeliveredRecord => ({ ...good[i]!, ...change });

test('checks pass on real records, whatever rings they came through', () => {
  assert.equal(good.length, 50);
  assert.deepEqual(check(good), { delivered: 50, anomalies: [], ringsPerThread: [1] });
  // The thread migrated: its later records in another ring, delivered after
  // that ring's earlier ones. The old doctor compared across rings and
  // reported "timestamps went backwards" here.
  const ring = good[0]!.ring;
  const migrated = [...good.slice(25).map((r) => ({ ...r, ring: ring + 1 })), ...good.slice(0, 25)];
  const r = check(migrated);
  assert.deepEqual(r.anomalies, []);
  assert.deepEqual(r.ringsPerThread, [2]);
});

test('checks fail on each kind of anomaly, naming it', () => {
  const cases: [string, DeliveredRecord[], RegExp, number?][] = [
    ['time backwards in a ring', [...good.slice(0, 10), edit(10, { timestamp: good[9]!.timestamp - 1n }),
      ...good.slice(11)], /timestamps went backwards within a ring \(1\): ring \d+: \d+ after \d+/],
    ['a record missing', [...good.slice(0, 20), ...good.slice(21)], /thread 0: 1 of its 50 events never delivered \(the first: seq 20\)/],
    ['a record twice', [...good, good[49]!], /records delivered twice \(1\): thread 0 seq 49/],
    ['records reordered', [...good.slice(0, 5), good[6]!, good[5]!, ...good.slice(7)].map((r, i) => ({ ...r,
      timestamp: good[i]!.timestamp })), /out of order within a ring \(1\): ring \d+, thread 0: seq 5 after 6/],
    ['a wrong value', good.map((r, i) => {
      if (i !== 7) return r;
      const p = Buffer.from(r.payload);
      p.writeDoubleLE(99.5, 8 + 4 + 4 + 8 + 8); // x, after pid/tid, thread, seq, big, neg
      return { ...r, payload: p };
    }), /decode to other values .*thread 0 seq 7: x 99.5, emitted 0.875/],
    ['a cut record', good.map((r, i) => (i === 3 ? { ...r, payload: r.payload.subarray(0, 20) } : r)),
      /do not decode \(1\)/],
    ['another class', good.map((r, i) => (i === 4 ? { ...r, id: exp.classId + 1 } : r)), /another class or process \(1\)/],
    ['lost events', good.slice(0, 48), /2 events lost although the rings had room/, 2],
  ];
  for (const [what, records, expected, lost] of cases) {
    const r = check(records, lost);
    assert.ok(r.anomalies.some((a) => expected.test(a)), `${what}: ${JSON.stringify(r.anomalies)}`);
  }
  // many of one kind: the first few, then a count
  const many = check(good.map((r, i) => ({ ...r, timestamp: BigInt(1000 - i) })));
  assert.match(many.anomalies[0]!, /backwards within a ring \(49\): .*; and 44 more$/);
});

interface DoctorJson { ok: boolean; emitted: number; delivered: number; lost: number; anomalies: string[];
  ringsPerThread: number[]; clock: string; clockWhy: string; clocksource: string }

/** One doctor run; with `migrate`, its threads' CPU affinity flips between CPU 0 and 1 while it runs. */
function doctor(pin: boolean, migrate: boolean): Promise<{ code: number | null; report: DoctorJson; stdout: string }> {
  const args = [cli, 'doctor', '--json', '--events', '40000'];
  const child = pin ? spawn('taskset', ['-c', '0', process.execPath, ...args]) : spawn(process.execPath, args);
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
  let flips: NodeJS.Timeout | undefined;
  if (migrate) {
    let cpu = 0;
    flips = setInterval(() => {
      spawn('taskset', ['-a', '-p', '-c', String(cpu), String(child.pid)], { stdio: 'ignore' }).on('error', () => {});
      cpu ^= 1;
    }, 3);
  }
  return new Promise((resolve) => child.on('close', (code) => {
    clearInterval(flips);
    resolve({ code, stdout, report: JSON.parse(stdout) as DoctorJson });
  }));
}

const RUNS = 12;

test(`doctor passes ${RUNS} of ${RUNS} runs pinned to one CPU`, { skip: !hasTaskset && 'no taskset' }, async () => {
  for (let i = 0; i < RUNS; i++) {
    const { code, report } = await doctor(true, false);
    assert.deepEqual(report.anomalies, [], `run ${i}`);
    assert.equal(code, 0);
    assert.equal(report.delivered, report.emitted);
    assert.deepEqual(report.ringsPerThread, [1, 1], 'pinned: one ring per thread');
    // Which clock, and why: the cycle counter where the kernel trusts it or it passed the cross-CPU check.
    assert.match(report.clockWhy, report.clock === 'cycles' ? /TSC|counter/ : /./);
    if (report.clocksource === 'tsc') assert.equal(report.clock, 'cycles', report.clockWhy);
  }
});

test(`doctor passes ${RUNS} of ${RUNS} runs whose threads are moved between CPUs`,
  { skip: (!hasTaskset || cpus < 2) && 'needs taskset and 2 CPUs' }, async () => {
    let migrated = 0;
    for (let i = 0; i < RUNS; i++) {
      const { code, report, stdout } = await doctor(false, true);
      assert.doesNotMatch(stdout, /backwards/, `run ${i}`);
      assert.deepEqual(report.anomalies, [], `run ${i}`);
      assert.equal(code, 0);
      assert.equal(report.ok, true);
      assert.equal(report.delivered, report.emitted);
      if (report.ringsPerThread.some((n) => n > 1)) migrated++;
    }
    assert.ok(migrated >= RUNS / 2, `threads did migrate between rings in ${migrated} of ${RUNS} runs`);
  });
