// DOM helpers. Every string from the trace enters the page as a text node
// or an attribute value (never as HTML), so no name or field can become
// markup or script.
const SVG_NS = 'http://www.w3.org/2000/svg';

function append(parent, child) {
  if (child === null || child === undefined || child === false) return;
  if (Array.isArray(child)) child.forEach((c) => append(parent, c));
  else if (child instanceof Node) parent.appendChild(child);
  else parent.appendChild(document.createTextNode(String(child)));
}

function setAttributes(e, attrs) {
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v !== undefined && v !== null && v !== false) e.setAttribute(k, String(v));
  }
}

/** An HTML element: el('td', { class: 'num' }, 'text', child, ...). */
function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  setAttributes(e, attrs);
  append(e, children);
  return e;
}

/** An SVG element. */
function svg(tag, attrs, ...children) {
  const e = document.createElementNS(SVG_NS, tag);
  setAttributes(e, attrs);
  append(e, children);
  return e;
}

/** A class or span name as the report writes it. */
function fullName(provider, name) {
  return provider ? provider + ':' + name : name;
}

/** A stable color per name (hue from a string hash). */
function colorOf(text, lightness) {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return 'hsl(' + ((h >>> 0) % 360) + ', 55%, ' + (lightness || 62) + '%)';
}

const CPU_COLORS = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f',
  '#bab0ac'];

/** A table: header cells, then rows of cells (td elements or values). */
function table(headers, rows, attrs) {
  return el('table', attrs,
    el('thead', null, el('tr', null, headers.map((h) => el('th', null, h)))),
    el('tbody', null, rows));
}

/** A number cell: shown as `text`, its exact value in data-value. */
function numCell(value, text) {
  return el('td', { class: 'num', 'data-value': value === null ? '' : value }, text);
}

function section(id, title, ...children) {
  return el('section', { id: id, class: 'card' }, el('h2', null, title), children);
}

function note(text, cls) {
  return el('p', { class: cls ? 'note ' + cls : 'note' }, text);
}

/** "+1.23 ms": a time since the trace's first event. */
function since(ns) {
  return '+' + formatDuration(ns);
}
