// The timeline: one row per thread, its spans stacked by depth (overlapping
// spans of one depth in lanes of their own), on a canvas.
// Mouse wheel zooms around the pointer, dragging pans, "Reset" shows the
// whole trace again; hovering a span shows its name, duration and fields.
const GUTTER = 170; // px of thread labels
const AXIS = 24; // px of time axis
const LANE = 16; // px per lane
const MAX_LANES = 24; // per thread: spans past it share the last lane
const MIN_VIEW_NS = 100;

function timelineSection(data) {
  const tl = data.timeline;
  const total = Math.max(data.trace.durationNs, 1);
  const shown = tl.spans.length;
  const caption = shown < tl.total
    ? 'Showing ' + formatCount(shown) + ' of ' + formatCount(tl.total) + ' spans: the ' +
      formatCount(data.limits.maxSpans) + ' longest, plus the slowest spans and their child spans ' +
      '(trace-consume report --max-spans N shows more).'
    : 'Showing all ' + formatCount(tl.total) + ' spans.';
  if (tl.threads.length === 0) {
    return section('timeline', 'Timeline', note('No spans in this trace.'));
  }

  // Rows: each thread's spans in lanes (laneLayout), each lane in start order.
  const rowOf = new Map(tl.threads.map((t, i) => [t.pid + ':' + t.tid, i]));
  const byRow = tl.threads.map(() => []);
  for (const s of tl.spans) {
    const r = rowOf.get(s.pid + ':' + s.tid);
    if (r !== undefined) byRow[r].push(s);
  }
  const lanes = byRow.map((spans) => laneLayout(spans, total));
  const rows = [];
  let y = AXIS;
  for (let r = 0; r < tl.threads.length; r++) {
    const h = Math.max(1, lanes[r].length) * LANE + 8;
    rows.push({ top: y, height: h });
    y += h;
  }
  const height = y + 4;

  const canvas = el('canvas', { class: 'timeline-canvas', height: height });
  const tip = el('div', { class: 'tooltip', hidden: true });
  const range = el('span', { class: 'range', id: 'timeline-range' });
  const reset = el('button', { type: 'button', id: 'timeline-reset' }, 'Reset zoom');
  const wrap = el('div', { class: 'timeline-wrap' }, canvas, tip);
  let view = { t0: 0, t1: total };
  let plotWidth = 1;

  const endOf = (s) => (s.dur === null ? total : s.start + s.dur);
  const scale = () => plotWidth / (view.t1 - view.t0);
  const xOf = (t) => GUTTER + (t - view.t0) * scale();
  const tOf = (x) => view.t0 + (x - GUTTER) / scale();

  function clampView(t0, t1) {
    let len = Math.min(Math.max(t1 - t0, MIN_VIEW_NS), total);
    let a = Math.min(Math.max(t0, 0), total - len);
    view = { t0: a, t1: a + len };
    range.textContent = formatDuration(view.t0) + ' – ' + formatDuration(view.t1) + ' (' + formatDuration(len) +
      ' of ' + formatDuration(total) + ')';
    range.dataset.t0 = String(view.t0);
    range.dataset.t1 = String(view.t1);
  }

  function drawAxis(ctx, width) {
    const len = view.t1 - view.t0;
    const step = niceStep(len / Math.max(1, plotWidth / 110));
    ctx.fillStyle = '#555';
    ctx.strokeStyle = '#e3e6ea';
    ctx.font = '11px system-ui, sans-serif';
    ctx.textBaseline = 'middle';
    for (let t = Math.ceil(view.t0 / step) * step; t <= view.t1; t += step) {
      const x = Math.round(xOf(t)) + 0.5;
      ctx.beginPath();
      ctx.moveTo(x, AXIS - 4);
      ctx.lineTo(x, height);
      ctx.stroke();
      ctx.fillText(formatDuration(t), x + 3, AXIS / 2);
    }
    ctx.fillStyle = '#888';
    ctx.fillRect(GUTTER, AXIS - 1, width - GUTTER, 1);
  }

  function drawRow(ctx, r, width) {
    const row = rows[r];
    const t = tl.threads[r];
    ctx.fillStyle = r % 2 ? '#fafbfc' : '#f1f3f6';
    ctx.fillRect(0, row.top, width, row.height);
    ctx.fillStyle = '#222';
    ctx.font = '12px system-ui, sans-serif';
    ctx.textBaseline = 'top';
    ctx.save();
    ctx.beginPath();
    ctx.rect(0, row.top, GUTTER - 6, row.height);
    ctx.clip();
    ctx.fillText(t.thread + ' (tid ' + t.tid + ')', 6, row.top + 4);
    ctx.fillStyle = '#777';
    ctx.font = '11px system-ui, sans-serif';
    if (row.height >= 34) ctx.fillText(t.process + ' (pid ' + t.pid + ')', 6, row.top + 19);
    ctx.restore();
    ctx.save();
    ctx.beginPath();
    ctx.rect(GUTTER, row.top, width - GUTTER, row.height);
    ctx.clip();
    ctx.textBaseline = 'middle';
    ctx.font = '11px system-ui, sans-serif';
    lanes[r].forEach((lane, i) => {
      const y = row.top + 4 + i * LANE;
      let lastPixel = -1; // spans narrower than a pixel: one rectangle per pixel column
      for (const s of lane) {
        const end = endOf(s);
        if (end < view.t0 || s.start > view.t1) continue;
        const x0 = Math.max(GUTTER, xOf(s.start));
        const x1 = Math.min(width, xOf(end));
        const w = Math.max(1, x1 - x0);
        if (w < 1.5 && Math.floor(x0) === lastPixel) continue;
        lastPixel = Math.floor(x0);
        const name = fullName(s.provider, s.name);
        ctx.fillStyle = colorOf(name, s.dur === null ? 80 : 62);
        ctx.fillRect(x0, y, w, LANE - 2);
        if (s.dur === null) {
          ctx.strokeStyle = '#999';
          ctx.setLineDash([3, 2]);
          ctx.strokeRect(x0 + 0.5, y + 0.5, w - 1, LANE - 3);
          ctx.setLineDash([]);
        }
        if (w > 40) {
          ctx.save();
          ctx.beginPath();
          ctx.rect(x0, y, w, LANE - 2);
          ctx.clip();
          ctx.fillStyle = '#111';
          ctx.fillText(name + ' ' + formatDuration(s.dur), x0 + 3, y + (LANE - 2) / 2);
          ctx.restore();
        }
      }
    });
    ctx.restore();
  }

  function draw() {
    const width = Math.max(GUTTER + 100, wrap.clientWidth);
    plotWidth = width - GUTTER;
    const dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
    canvas.style.width = width + 'px';
    canvas.style.height = height + 'px';
    const ctx = canvas.getContext('2d');
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, width, height);
    for (let r = 0; r < rows.length; r++) drawRow(ctx, r, width);
    drawAxis(ctx, width);
  }

  /** The span under (x, y), or null. */
  function spanAt(x, y) {
    if (x < GUTTER) return null;
    const r = rows.findIndex((row) => y >= row.top && y < row.top + row.height);
    if (r < 0) return null;
    const lane = lanes[r][Math.floor((y - rows[r].top - 4) / LANE)];
    if (!lane) return null;
    const t = tOf(x);
    const slack = 2 / scale(); // 2 px either side: thin spans can be hit
    let found = null;
    for (const s of lane) {
      if (s.start - slack > t) break;
      if (endOf(s) + slack >= t) found = s;
    }
    return found;
  }

  function showTip(s, x, y) {
    tip.replaceChildren();
    append(tip, [
      el('div', { class: 'tip-name' }, fullName(s.provider, s.name)),
      el('div', null, s.dur === null ? 'not ended (drawn to the end of the trace)' : formatDuration(s.dur),
        ' · starts ', since(s.start)),
      el('div', { class: 'muted' }, s.thread + ' (pid ' + s.pid + ', tid ' + s.tid + ') · depth ' + s.depth),
      s.fields ? el('div', { class: 'tip-fields' }, s.fields) : null,
      s.endFields ? el('div', { class: 'tip-fields' }, 'end: ' + s.endFields) : null]);
    tip.hidden = false;
    const left = Math.min(x + 14, wrap.clientWidth - tip.offsetWidth - 4);
    tip.style.left = Math.max(0, left) + 'px';
    tip.style.top = (y + 14) + 'px';
  }

  let drag = null;
  canvas.addEventListener('wheel', (e) => {
    if (e.offsetX < GUTTER) return;
    e.preventDefault();
    const t = tOf(e.offsetX);
    const len = Math.min(Math.max((view.t1 - view.t0) * Math.exp(e.deltaY * 0.0015), MIN_VIEW_NS), total);
    const f = (t - view.t0) / (view.t1 - view.t0);
    clampView(t - f * len, t - f * len + len);
    draw();
  }, { passive: false });
  canvas.addEventListener('mousedown', (e) => {
    drag = { x: e.clientX, t0: view.t0, t1: view.t1 };
    tip.hidden = true;
    canvas.classList.add('dragging');
  });
  window.addEventListener('mousemove', (e) => {
    if (!drag) return;
    const dt = (e.clientX - drag.x) / scale();
    clampView(drag.t0 - dt, drag.t1 - dt);
    draw();
  });
  window.addEventListener('mouseup', () => {
    drag = null;
    canvas.classList.remove('dragging');
  });
  canvas.addEventListener('mousemove', (e) => {
    if (drag) return;
    const s = spanAt(e.offsetX, e.offsetY);
    if (s) showTip(s, e.offsetX, e.offsetY);
    else tip.hidden = true;
  });
  canvas.addEventListener('mouseleave', () => { tip.hidden = true; });
  reset.addEventListener('click', () => {
    clampView(0, total);
    draw();
  });
  window.addEventListener('resize', draw);
  clampView(0, total);

  const card = section('timeline', 'Timeline',
    note(caption, shown < tl.total ? 'capped' : ''),
    el('div', { class: 'controls' }, reset, range,
      el('span', { class: 'muted' }, 'wheel: zoom · drag: pan · hover: details · dashed: never ended')),
    wrap);
  card.draw = draw;
  return card;
}

/**
 * One thread's spans in lanes: by depth, and spans of one depth that overlap
 * in time (async code interleaving requests on a thread) in lanes of their
 * own below one another, each in the first lane free at its start. Returns
 * the lanes top to bottom, each in start order; past MAX_LANES the last lane
 * takes the rest (they may overlap there). Unended spans run to `total`.
 */
function laneLayout(spans, total) {
  const byDepth = [];
  for (const s of [...spans].sort((a, b) => a.start - b.start)) (byDepth[s.depth] ??= []).push(s);
  const lanes = [];
  for (const ofDepth of byDepth) {
    if (!ofDepth) continue;
    const first = Math.min(lanes.length, MAX_LANES - 1);
    const room = MAX_LANES - first; // lanes this depth may open
    const ends = []; // per lane of this depth: where its last span ends
    for (const s of ofDepth) {
      let k = ends.findIndex((end) => end <= s.start);
      if (k < 0) k = ends.length < room ? ends.push(0) - 1 : room - 1; // none free: a new one, or share the last
      ends[k] = Math.max(ends[k], s.dur === null ? total : s.start + s.dur);
      (lanes[first + k] ??= []).push(s);
    }
  }
  for (const lane of lanes) lane.sort((a, b) => a.start - b.start); // the last lane may mix depths
  return lanes;
}

/** A tick step of 1, 2 or 5 × 10^k ns at least `raw`. */
function niceStep(raw) {
  const pow = Math.pow(10, Math.floor(Math.log10(Math.max(raw, 1))));
  for (const m of [1, 2, 5, 10]) if (m * pow >= raw) return m * pow;
  return 10 * pow;
}
