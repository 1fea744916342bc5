// The file formats of `export` (its option's choices, without loading the exporters).
export const FORMATS = ['perfetto', 'chrome', 'jsonl'] as const;
export type ExportFormat = (typeof FORMATS)[number];
