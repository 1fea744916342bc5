// Small SVG charts: a latency histogram on log-scale buckets, bars over
// time (rates, losses; stacked when there are several series), and lines
// over time (event-loop delay, memory, GC pauses as spikes).

/** Bucket b of the histogram holds durations in [2^(b/2), 2^((b+1)/2)) ns. */
const bucketLow = (b) => Math.pow(2, b / 2);

/** A span name's durations: bars per bucket, p50 and p99 marked. */
function histogramChart(row) {
  const W = 220, H = 46, BASE = 34;
  const h = row.histogram;
  if (h.length === 0) return el('span', { class: 'muted' }, 'no finished spans');
  const lo = h[0][0], hi = h[h.length - 1][0];
  const n = hi - lo + 1;
  const peak = Math.max(...h.map((x) => x[1]));
  const bw = W / n;
  const chart = svg('svg', { class: 'hist', viewBox: '0 0 ' + W + ' ' + H, width: W, height: H,
    role: 'img', 'aria-label': 'durations of ' + fullName(row.provider, row.name) });
  const color = colorOf(fullName(row.provider, row.name), 55);
  for (const [b, count] of h) {
    const bh = Math.max(1, (count / peak) * (BASE - 2));
    chart.appendChild(svg('rect', { x: (b - lo) * bw + 0.5, y: BASE - bh, width: Math.max(1, bw - 1), height: bh,
      fill: color }, svg('title', null, formatDuration(bucketLow(b)) + ' – ' + formatDuration(bucketLow(b + 1)) +
      ': ' + formatCount(count) + ' spans')));
  }
  const xOf = (ns) => (Math.log2(Math.max(ns, 1)) * 2 - lo) * bw;
  for (const [label, v] of [['p50', row.p50], ['p99', row.p99]]) {
    if (v === null) continue;
    const x = Math.min(W - 1, Math.max(1, xOf(v)));
    chart.appendChild(svg('line', { x1: x, x2: x, y1: 0, y2: BASE, class: 'mark' },
      svg('title', null, label + ' ' + formatDuration(v))));
  }
  chart.appendChild(svg('text', { x: 0, y: H - 2, class: 'axis' }, formatDuration(bucketLow(lo))));
  chart.appendChild(svg('text', { x: W, y: H - 2, class: 'axis', 'text-anchor': 'end' }, formatDuration(bucketLow(hi + 1))));
  return chart;
}

/**
 * Bars over time: `stack` is a list of { label, color, counts } (one bar per
 * bucket, the series stacked). The bars stretch to the page's width; their
 * labels are HTML beside and below them (SVG text would stretch too).
 */
function barsOverTime(stack, bucketNs, durationNs, opts) {
  const H = 100;
  const buckets = stack[0].counts.length;
  const sums = new Array(buckets).fill(0);
  for (const s of stack) s.counts.forEach((c, i) => { sums[i] += c; });
  const peak = Math.max(1, ...sums);
  const chart = svg('svg', { class: 'bars', viewBox: '0 0 ' + buckets + ' ' + H, preserveAspectRatio: 'none',
    role: 'img', 'aria-label': opts.label || 'over time', style: 'height:' + (opts.height || 40) + 'px' });
  const base = new Array(buckets).fill(0);
  for (const s of stack) {
    s.counts.forEach((c, i) => {
      if (!c) return;
      const h = Math.max(1.5, (c / peak) * H);
      base[i] += h;
      chart.appendChild(svg('rect', { x: i + 0.08, y: H - base[i], width: 0.84, height: h, fill: s.color },
        svg('title', null, (s.label ? s.label + ': ' : '') + formatCount(c) + ' in ' + since(i * bucketNs) + ' – ' +
          since(Math.min(durationNs, (i + 1) * bucketNs)) + (opts.perSecond ? ' (' + formatRate(c / (bucketNs / 1e9)) + ')' : ''))));
    });
  }
  const top = opts.perSecond ? formatRate(peak / (bucketNs / 1e9)) : formatCount(peak);
  return el('div', { class: 'bars-chart' },
    el('div', { class: 'y-labels' }, el('span', null, top), el('span', null, '0')),
    chart,
    opts.axis ? el('div', null) : null,
    opts.axis ? timeAxis(durationNs, buckets * bucketNs) : null);
}

/** Time labels under a chart spanning 0 … `spanNs` (the trace lasts `durationNs`). */
function timeAxis(durationNs, spanNs) {
  const step = niceStep(durationNs / 6);
  const axis = el('div', { class: 'time-axis' });
  for (let t = 0; t <= durationNs; t += step) {
    axis.appendChild(el('span', { style: 'left:' + ((t / Math.max(spanNs, 1)) * 100).toFixed(2) + '%' }, formatDuration(t)));
  }
  return axis;
}

/** Time labels along the bottom of an SVG chart (0 … the trace's duration). */
function timeTicks(chart, left, width, y, durationNs) {
  const step = niceStep(durationNs / 6);
  for (let t = 0; t <= durationNs; t += step) {
    const x = left + (t / Math.max(durationNs, 1)) * width;
    chart.appendChild(svg('text', { x: x, y: y, class: 'axis', 'text-anchor': t === 0 ? 'start' : 'middle' },
      formatDuration(t)));
  }
}

/**
 * Lines over time: `lines` is a list of { label, color, points: [[t, v]] }
 * (joined by straight lines), `format` writes a y value. Spikes instead of lines
 * when opts.spikes (each point a vertical line from 0).
 */
function linesOverTime(lines, durationNs, format, opts) {
  const W = 760, H = 150, LEFT = 64, BOTTOM = 18, TOP = 8;
  const plotW = W - LEFT - 8, plotH = H - BOTTOM - TOP;
  const peak = Math.max(1e-9, ...lines.flatMap((l) => l.points.map((p) => p[1])));
  const xOf = (t) => LEFT + (Math.min(Math.max(t, 0), durationNs) / Math.max(durationNs, 1)) * plotW;
  const yOf = (v) => TOP + plotH - (v / peak) * plotH;
  const chart = svg('svg', { class: 'lines', viewBox: '0 0 ' + W + ' ' + H, role: 'img', 'aria-label': opts.label });
  for (const f of [0, 0.5, 1]) {
    const y = yOf(peak * f);
    chart.appendChild(svg('line', { x1: LEFT, x2: LEFT + plotW, y1: y, y2: y, class: f ? 'grid' : 'baseline' }));
    chart.appendChild(svg('text', { x: LEFT - 4, y: y + 4, class: 'axis', 'text-anchor': 'end' }, format(peak * f)));
  }
  timeTicks(chart, LEFT, plotW, H - 3, durationNs);
  for (const l of lines) {
    if (opts.spikes) {
      for (const [t, v] of l.points) {
        chart.appendChild(svg('line', { x1: xOf(t), x2: xOf(t), y1: yOf(0), y2: Math.min(yOf(v), yOf(0) - 1),
          stroke: l.color, 'stroke-width': 1.5 }, svg('title', null, l.label + ' ' + format(v) + ' at ' + since(t))));
      }
    } else {
      const pts = l.points.map((p) => xOf(p[0]).toFixed(1) + ',' + yOf(p[1]).toFixed(1)).join(' ');
      chart.appendChild(svg('polyline', { points: pts, fill: 'none', stroke: l.color, 'stroke-width': 1.5 },
        svg('title', null, l.label)));
    }
  }
  return el('figure', null, chart, legend(lines));
}

function legend(items) {
  return el('figcaption', { class: 'legend' }, items.map((i) =>
    el('span', null, el('i', { style: 'background:' + i.color }), i.label)));
}
