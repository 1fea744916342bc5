// The report as one self-contained HTML file: the data as JSON in a
// <script type="application/json"> (every "<" escaped, so no trace string
// can close it), the page's CSS and script (src/report/page/, shipped with
// the package and read here) inline, nothing fetched from anywhere. A
// Content-Security-Policy allows only these scripts, by their hashes.
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { ReportData } from './model';
import { PAGE_UNITS } from './units';
import { openOwnFile } from '../export/own-file';

/** From dist/src/report (and the package's same layout) to src/report/page. */
const PAGE_DIR = path.join(__dirname, '..', '..', '..', 'src', 'report', 'page');
/** The page's script files, in the order they are concatenated. */
const SCRIPTS = ['dom.js', 'charts.js', 'timeline.js', 'sections.js', 'main.js'];

function asset(name: string): string {
  const text = fs.readFileSync(path.join(PAGE_DIR, name), 'utf8');
  // Inline, "</script" or "<!--" would end or confuse the element that holds it.
  if (/<\/script|<!--/i.test(text)) throw new Error(`${name}: holds "</script" or "<!--": it cannot be inlined`);
  return text;
}

/** JSON safe inside <script>: no "<" (so no "</script>" or "<!--"), no line separators. */
export function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

const sha256 = (text: string) => `'sha256-${crypto.createHash('sha256').update(text, 'utf8').digest('base64')}'`;

export function reportHtml(data: ReportData): string {
  const errors = asset('errors.js');
  const units = PAGE_UNITS.map((f) => f.toString()).join('\n');
  const script = `(function () {\n'use strict';\n${units}\n${SCRIPTS.map(asset).join('\n')}\n})();\n`;
  const csp = `default-src 'none'; script-src ${sha256(errors)} ${sha256(script)}; style-src 'unsafe-inline'; ` +
    "img-src data:; base-uri 'none'; form-action 'none'";
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="ringtrace trace-consume report">
<title>ringtrace report</title>
<style>
${asset('report.css')}</style>
<script>${errors}</script>
</head>
<body>
<div id="page-errors" hidden></div>
<div id="app"></div>
<script type="application/json" id="report-data">${scriptJson(data)}</script>
<script>${script}</script>
</body>
</html>
`;
}

/**
 * Open the report's file (0600, never through a symbolic link) before the
 * trace is read, so a bad path fails at once; `write` fills it.
 */
export function openReport(file: string): { write: (html: string) => void; discard: () => void } {
  const fd = openOwnFile(file);
  let open = true;
  const close = () => {
    if (open) fs.closeSync(fd);
    open = false;
  };
  return {
    write: (html) => {
      try {
        const bytes = Buffer.from(html, 'utf8');
        for (let at = 0; at < bytes.length;) at += fs.writeSync(fd, bytes, at);
      } finally {
        close();
      }
    },
    discard: () => {
      close();
      fs.rmSync(file, { force: true });
    },
  };
}
