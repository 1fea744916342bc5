// Where top's blocks go: on a terminal, the alternate screen, redrawn in
// place, the cursor hidden, and everything restored however top ends (the
// process exits, Ctrl-C, q); elsewhere, one plain block after another.

export class Screen {
  private restored = false;
  private readonly onExit = () => this.restore();

  constructor(private readonly out: NodeJS.WriteStream & { fd: number }, readonly tty = out.isTTY === true) {
    if (!this.tty) return;
    this.out.write('\x1b[?1049h\x1b[?25l'); // alternate screen, no cursor
    process.on('exit', this.onExit); // also after an uncaught error
  }

  draw(block: string): void {
    if (!this.tty) {
      this.out.write(`${block}\n\n`);
      return;
    }
    const rows = this.out.rows || 50;
    const lines = block.split('\n').slice(0, rows);
    // Home, each line cleared to its end, the rest of the screen cleared: no flicker, no leftovers.
    this.out.write(`\x1b[H${lines.map((l) => `${l}\x1b[K`).join('\n')}\x1b[J`);
  }

  /** Back to the normal screen (on a terminal); the last block printed there so it stays visible. */
  restore(last?: string): void {
    if (!this.tty || this.restored) return;
    this.restored = true;
    process.off('exit', this.onExit);
    this.out.write('\x1b[?25h\x1b[?1049l');
    if (last) this.out.write(`${last}\n`);
  }
}

/**
 * Calls `quit` on q or Ctrl-C typed at a terminal (read raw: one key at a
 * time), and on SIGINT/SIGTERM. Returns a function that stops listening.
 */
export function onQuit(quit: () => void): () => void {
  const stdin = process.stdin;
  const raw = stdin.isTTY === true;
  const onKey = (d: Buffer) => {
    const k = d.toString();
    if (k === 'q' || k === 'Q' || k === '\x03') quit();
  };
  if (raw) {
    stdin.setRawMode(true);
    stdin.on('data', onKey);
    stdin.resume();
  }
  process.on('SIGINT', quit);
  process.on('SIGTERM', quit);
  return () => {
    process.off('SIGINT', quit);
    process.off('SIGTERM', quit);
    if (raw) {
      stdin.off('data', onKey);
      stdin.setRawMode(false);
      stdin.pause();
    }
  };
}
