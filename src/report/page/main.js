// Reads the trace's data (the JSON script element #report-data) and builds
// the page. Once everything is drawn, the body's data-rendered is "ok".
function main() {
  const data = JSON.parse(document.getElementById('report-data').textContent);
  document.title = 'ringtrace report: ' + data.trace.dir;
  const app = document.getElementById('app');
  const nav = el('nav', null, [['timeline', 'Timeline'], ['latency', 'Latency'], ['slowest', 'Slowest spans'],
    ['rates', 'Event rates'], ['runtime', 'GC and event loop'], ['lost', 'Lost events']].map(([id, label]) =>
    el('a', { href: '#' + id }, label)));
  const timeline = timelineSection(data);
  app.append(summarySection(data), nav, timeline, latencySection(data), slowestSection(data), ratesSection(data),
    runtimeSection(data), lostSection(data));
  if (timeline.draw) timeline.draw();
  document.body.dataset.rendered = 'ok';
}

main();
