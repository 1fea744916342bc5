// Messages from the loading thread (load-worker.ts) to the main thread (load.ts).
import type { ThreadRow } from './rows';

export interface LostRow {
  cpu: number;
  /** Epoch ns as decimal text (exact past 2^53). */
  startNs: string;
  endNs: string;
  events: number;
}

export type WorkerMessage =
  | { type: 'start'; startNs: string }
  | { type: 'chunk'; file: string; longest: number }
  | { type: 'progress'; done: number; total: number; rows: number }
  | { type: 'done'; rows: number; errors: string[]; lost: LostRow[]; threads: ThreadRow[] }
  | { type: 'error'; message: string };
