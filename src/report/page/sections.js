// The report's sections besides the timeline: the trace's summary, latency
// per span name, the slowest spans with their trees, event rates, the
// runtime (GC, event-loop delay, memory) and lost events.

function summarySection(data) {
  const t = data.trace;
  const start = t.events ? new Date(Number(BigInt(t.startNs) / 1000000n)).toISOString() : '(no events)';
  const facts = [
    ['trace', t.dir], ['from', start], ['duration', formatDuration(t.durationNs)], ['events', formatCount(t.events)],
    ['spans', formatCount(t.spans) + (t.openSpans ? ' (' + formatCount(t.openSpans) + ' never ended)' : '')],
    ['threads', formatCount(t.threads)],
    ['processes', t.processes.map((p) => p.name + ' (pid ' + p.pid + ')').join(', ') || 'none'],
  ];
  return el('header', { class: 'card summary' },
    el('h1', null, 'ringtrace report'),
    el('dl', null, facts.map(([k, v]) => [el('dt', null, k), el('dd', null, v)])),
    t.lostEvents
      ? note(formatCount(t.lostEvents) + ' events were lost while recording (a ring was full): see Lost events.', 'warn')
      : note('No events lost.'),
    t.errors.map((e) => note('Damaged stream: ' + e + ' (everything before the damage is included).', 'warn')));
}

function latencySection(data) {
  const { rows, names } = data.latency;
  if (rows.length === 0) return section('latency', 'Latency per span name', note('No spans in this trace.'));
  const body = rows.map((r) => el('tr', { 'data-name': fullName(r.provider, r.name) },
    el('td', { class: 'name' }, el('i', { class: 'swatch', style: 'background:' + colorOf(fullName(r.provider, r.name)) }),
      fullName(r.provider, r.name)),
    numCell(r.count, formatCount(r.count)),
    numCell(r.p50, formatDuration(r.p50)), numCell(r.p90, formatDuration(r.p90)), numCell(r.p99, formatDuration(r.p99)),
    numCell(r.max, formatDuration(r.max)), numCell(r.open, r.open ? formatCount(r.open) : ''),
    el('td', { class: 'chart' }, histogramChart(r))));
  return section('latency', 'Latency per span name',
    note('Finished spans per name; p50, p90 and p99 interpolated between the nearest durations ' +
      '(quantile_cont). Histograms: log-scale buckets (two per power of two), p50 and p99 marked.'),
    names > rows.length ? note('Showing ' + rows.length + ' of ' + names + ' span names: those with the most ' +
      'total time.', 'capped') : null,
    el('div', { class: 'scroll' }, table(['name', 'count', 'p50', 'p90', 'p99', 'max', 'not ended',
      'durations (log scale)'], body, { id: 'latency-table' })));
}

/** One of the slowest spans: its tree as a waterfall within the root's time. */
function slowTree(tree, rank) {
  const root = tree.root;
  const line = (s, depth) => {
    const left = ((s.start - root.start) / root.dur) * 100;
    const width = ((s.dur === null ? root.dur : s.dur) / root.dur) * 100;
    return el('div', { class: 'wf-row', 'data-id': s.id },
      el('span', { class: 'wf-name', style: 'padding-left:' + (depth * 14) + 'px' }, fullName(s.provider, s.name)),
      el('span', { class: 'wf-dur num', 'data-value': s.dur === null ? '' : s.dur },
        s.dur === null ? 'not ended' : formatDuration(s.dur)),
      el('span', { class: 'wf-track' }, el('i', { class: 'wf-bar', style: 'left:' + Math.max(0, Math.min(left, 100)) +
        '%;width:' + Math.max(0.3, Math.min(width, 100 - Math.max(0, left))) + '%;background:' +
        colorOf(fullName(s.provider, s.name)) })),
      el('span', { class: 'wf-fields muted' }, s.fields || ''));
  };
  const rowsOut = [line(root, 0)];
  for (const c of tree.children) rowsOut.push(line(c, c.level));
  const summary = el('summary', null,
    el('span', { class: 'rank' }, rank + '.'),
    el('span', { class: 'num slow-dur', 'data-value': root.dur }, formatDuration(root.dur)),
    el('span', { class: 'slow-name' }, fullName(root.provider, root.name)),
    el('span', { class: 'muted' }, root.thread + ' (pid ' + root.pid + ', tid ' + root.tid + ') · starts ' +
      since(root.start) + ' · ' + formatCount(tree.children.length + tree.moreChildren) +
      (tree.children.length + tree.moreChildren === 1 ? ' child span' : ' child spans')));
  return el('li', { class: 'slow', 'data-id': root.id, 'data-pid': root.pid },
    el('details', rank <= 3 ? { open: true } : null, summary, el('div', { class: 'waterfall' }, rowsOut),
      tree.moreChildren ? note(formatCount(tree.moreChildren) + ' more child spans not listed (the first ' +
        formatCount(tree.children.length) + ' by start are).', 'capped') : null));
}

function slowestSection(data) {
  if (data.slowest.length === 0) return section('slowest', 'Slowest spans', note('No finished spans.'));
  return section('slowest', 'Slowest ' + data.slowest.length + ' spans',
    note('Each with its child spans, drawn within its own time (trace-consume report -n N lists more or fewer).'),
    el('ol', { class: 'slowest', id: 'slowest-list' }, data.slowest.map((t, i) => slowTree(t, i + 1))));
}

function ratesSection(data) {
  const r = data.rates;
  if (r.series.length === 0) return section('rates', 'Event rates', note('No events.'));
  const all = r.other ? r.series.concat([r.other]) : r.series;
  const seconds = Math.max(data.trace.durationNs / 1e9, r.bucketNs / 1e9);
  const multiples = all.map((s, i) => {
    const label = s === r.other ? 'other (' + (r.classes - r.series.length) + ' classes)' : fullName(s.provider, s.name);
    return el('div', { class: 'multiple', 'data-name': label },
      el('div', { class: 'multiple-label' }, el('b', null, label), el('span', { class: 'muted' }, ' ' +
        formatCount(s.total) + ' records · mean ' + formatRate(s.total / seconds) + ' · peak ' +
        formatRate(Math.max(...s.counts) / (r.bucketNs / 1e9)))),
      barsOverTime([{ label: label, color: colorOf(label, 55), counts: s.counts }], r.bucketNs, data.trace.durationNs,
        { perSecond: true, axis: i === all.length - 1, height: 34, label: label }));
  });
  return section('rates', 'Event rates',
    note('Records per class over time, in ' + formatDuration(r.bucketNs) + ' buckets, as a rate per second ' +
      '(a span counts once, at its begin; each chart has its own scale).'),
    r.other ? note('The ' + r.series.length + ' busiest of ' + r.classes + ' classes drawn one by one; the other ' +
      (r.classes - r.series.length) + ' summed.', 'capped') : null,
    el('div', { class: 'multiples' }, multiples));
}

function threadLabel(s) {
  return s.thread + ' (pid ' + s.pid + ', tid ' + s.tid + ')';
}

function runtimeSection(data) {
  const parts = [];
  const duration = data.trace.durationNs;
  const ms = (v) => (v === null ? '-' : v === 0 ? '0' : formatDuration(v * 1e6));
  parts.push(el('h3', null, 'GC pauses'));
  if (!data.gc) {
    parts.push(note('GC pauses were not recorded (trace-consume record --auto, or --auto=gc, records them).'));
  } else {
    const g = data.gc;
    parts.push(table(['kind', 'pauses', 'total', 'p50', 'max'], g.byKind.map((k) => el('tr', { 'data-kind': k.kind },
      el('td', null, k.kind), numCell(k.count, formatCount(k.count)), numCell(k.totalMs, ms(k.totalMs)),
      numCell(k.p50Ms, ms(k.p50Ms)), numCell(k.maxMs, ms(k.maxMs)))), { id: 'gc-table' }));
    const kinds = [...new Set(g.pauses.map((p) => p.kind))];
    parts.push(linesOverTime(kinds.map((k) => ({ label: k, color: colorOf('gc ' + k, 50),
      points: g.pauses.filter((p) => p.kind === k).map((p) => [p.start, p.ms]) })), duration,
      ms, { spikes: true, label: 'GC pauses over time' }));
    if (g.pauses.length < g.total) {
      parts.push(note('Drawn: the ' + formatCount(g.pauses.length) + ' longest of ' + formatCount(g.total) +
        ' pauses (the table counts them all).', 'capped'));
    }
  }
  parts.push(el('h3', null, 'Event-loop delay'));
  if (!data.loop) {
    parts.push(note('Event-loop delay was not recorded (trace-consume record --auto, or --auto=loop, records it).'));
  } else {
    parts.push(table(['thread', 'intervals', 'mean p50', 'worst p99', 'max', 'loop utilization'],
      data.loop.summary.map((l) => el('tr', { 'data-thread': l.pid + ':' + l.tid }, el('td', null, threadLabel(l)),
        numCell(l.samples, formatCount(l.samples)), numCell(l.p50MeanMs, ms(l.p50MeanMs)),
        numCell(l.p99MaxMs, ms(l.p99MaxMs)), numCell(l.maxMs, ms(l.maxMs)),
        numCell(l.utilizationMean, l.utilizationMean === null ? '-' : formatSignificant(l.utilizationMean * 100) + '%'))),
      { id: 'loop-table' }));
    for (const [key, series] of byThread(data.loop.series.filter((s) => s.name !== 'loop_utilization'))) {
      parts.push(el('h4', null, key));
      parts.push(linesOverTime(series.map((s) => ({ label: s.name.replace('loop_delay_', '').replace('_ms', ''),
        color: { loop_delay_p50_ms: '#59a14f', loop_delay_p99_ms: '#f28e2b', loop_delay_max_ms: '#e15759' }[s.name],
        points: s.points })), duration, ms, { label: 'event-loop delay of ' + key }));
    }
  }
  if (data.memory) {
    parts.push(el('h3', null, 'Memory'));
    for (const [key, series] of byThread(data.memory.series)) {
      parts.push(el('h4', null, key));
      parts.push(linesOverTime(series.map((s) => ({ label: s.name === 'heap_used_bytes' ? 'heap used' : 'rss',
        color: s.name === 'heap_used_bytes' ? '#4e79a7' : '#b07aa1', points: s.points })), duration, formatMegabytes,
      { label: 'memory of ' + key }));
    }
  }
  return section('runtime', 'Runtime: GC and event loop', parts);
}

/** Series grouped by their thread, in order. */
function byThread(series) {
  const groups = new Map();
  for (const s of series) {
    const key = threadLabel(s);
    if (!groups.has(key)) groups.set(key, []);
    groups.get(key).push(s);
  }
  return groups;
}

function lostSection(data) {
  const l = data.lost;
  if (l.perCpu.length === 0) return section('lost', 'Lost events', note('No events lost.', 'ok'));
  const color = (cpu) => CPU_COLORS[cpu % CPU_COLORS.length];
  return section('lost', 'Lost events',
    note(formatCount(data.trace.lostEvents) + ' events were lost while recording: a CPU\'s ring was full when ' +
      'they were emitted (larger rings, --subbuffer-size and --subbuffers, or fewer events help).', 'warn'),
    table(['cpu', 'events lost', 'packets', 'first', 'last'], l.perCpu.map((c) => el('tr', { 'data-cpu': c.cpu },
      el('td', null, el('i', { class: 'swatch', style: 'background:' + color(c.cpu) }), 'cpu ' + c.cpu),
      numCell(c.events, formatCount(c.events)), numCell(c.packets, formatCount(c.packets)),
      numCell(c.first, since(c.first)), numCell(c.last, since(c.last)))), { id: 'lost-table' }),
    note('Over time, by when each packet that counted them began (' + formatDuration(l.bucketNs) + ' buckets):'),
    barsOverTime(l.counts.map((c) => ({ label: 'cpu ' + c.cpu, color: color(c.cpu), counts: c.counts })), l.bucketNs,
      data.trace.durationNs, { axis: true, height: 70, label: 'lost events over time' }));
}
