// `trace-consume report DIR [-o report.html]`: what a trace says at a
// glance. With -o, one self-contained HTML page (timeline, latency per span
// name, slowest spans, event rates, GC and event loop, losses); without, the
// same as plain text. Every number is SQL over the query database
// (src/report/queries.ts).
import * as path from 'node:path';
import { openReport, reportHtml } from '../src/report/html';
import type { ReportLimits } from '../src/report/model';
import { reportData } from '../src/report/queries';
import { reportText } from '../src/report/text';
import { load, warnIncomplete } from './query';

export interface ReportOptions extends ReportLimits {
  output?: string;
  quiet?: boolean;
}

export async function runReportCommand(dir: string, opts: ReportOptions): Promise<number> {
  const html = opts.output !== undefined; // "-o -": the page to standard output
  const out = html && opts.output !== '-' ? openReport(opts.output!) : undefined;
  let written = false;
  try {
    const db = await load(dir, opts.quiet);
    try {
      warnIncomplete(db);
      const data = await reportData(db, path.basename(path.resolve(dir)), { slowest: opts.slowest, maxSpans: opts.maxSpans });
      if (!html) {
        process.stdout.write(reportText(data));
      } else if (!out) {
        process.stdout.write(reportHtml(data));
      } else {
        out.write(reportHtml(data));
        if (!opts.quiet) {
          process.stderr.write(`trace-consume: wrote ${opts.output} (${data.timeline.spans.length} of ` +
            `${data.trace.spans} spans on its timeline)\n`);
        }
      }
      written = true;
      return db.summary.errors.length ? 1 : 0;
    } finally {
      db.close();
    }
  } finally {
    if (out && !written) out.discard(); // nothing half-made is left behind
  }
}
