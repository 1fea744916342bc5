// An output buffer that text formats write ASCII into byte by byte: a
// million-line export cannot afford a JS string per value (each costs an
// allocation, a concatenation and a UTF-8 encode at the end). Full buffers go
// to `flush`, which must be done with the bytes when it returns.
export class ByteOut {
  readonly buf: Buffer;
  pos = 0;
  /** Bytes handed to flush so far. */
  flushed = 0;

  readonly capacity: number;

  constructor(private readonly flushTo: (bytes: Buffer) => void, capacity = 1 << 18) {
    // not shared memory: V8 copies into a SharedArrayBuffer with relaxed atomics, 1.6x slower per piece
    this.buf = Buffer.allocUnsafeSlow(capacity);
    this.capacity = capacity;
  }

  /** Make room for `n` more bytes (flushing what is there); false if `n` can never fit. */
  reserve(n: number): boolean {
    if (this.pos + n <= this.capacity) return true;
    this.flush();
    return n <= this.capacity;
  }

  flush(): void {
    if (this.pos === 0) return;
    const full = this.buf.subarray(0, this.pos);
    this.flushed += this.pos;
    this.pos = 0;
    this.flushTo(full);
  }

  /** Any string (UTF-8), flushing as needed; for the rare and the long. */
  text(s: string): void {
    if (!this.reserve(s.length * 3)) {
      this.flush();
      // longer than a whole buffer: goes through in buffer-sized pieces
      const b = Buffer.from(s, 'utf8');
      for (let i = 0; i < b.length; i += this.capacity) {
        const n = Math.min(this.capacity, b.length - i);
        b.copy(this.buf, 0, i, i + n);
        this.pos = n;
        this.flush();
      }
      return;
    }
    this.pos += this.buf.write(s, this.pos, 'utf8');
  }

  /** Precomputed bytes (keys, punctuation). The caller reserved room. */
  raw(b: Uint8Array): void {
    const n = b.length;
    if (n > 24) { // TypedArray.set is a call into C++ (~30 ns here), a byte loop ~1.4 ns a byte
      this.buf.set(b, this.pos);
      this.pos += n;
      return;
    }
    const d = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) d[p++] = b[i]!;
    this.pos = p;
  }

  /** An ASCII string the caller knows is short and has room for (numbers as text). */
  ascii(s: string): void {
    const d = this.buf;
    let p = this.pos;
    for (let i = 0; i < s.length; i++) d[p++] = s.charCodeAt(i);
    this.pos = p;
  }

  /** A non-negative integer below 2^53 in decimal. The caller reserved 16 bytes. */
  uint(n: number): void {
    const d = this.buf;
    let p = this.pos;
    if (n < 10) {
      d[p] = 48 + n;
      this.pos = p + 1;
      return;
    }
    let digits = 2;
    for (let m = 100; n >= m && digits < 16; m *= 10) digits++;
    p += digits;
    this.pos = p;
    if (n < 0x80000000) { // small integers divide as int32
      while (n >= 10) {
        const q = (n / 10) | 0;
        d[--p] = 48 + (n - q * 10);
        n = q;
      }
    } else {
      while (n >= 10) {
        const q = Math.floor(n / 10);
        d[--p] = 48 + (n - q * 10);
        n = q;
      }
    }
    d[--p] = 48 + n;
  }

  /** An integer with |n| below 2^53. The caller reserved 17 bytes. */
  int(n: number): void {
    if (n < 0) {
      this.buf[this.pos++] = 45; // '-'
      n = -n;
    }
    this.uint(n);
  }

  /** Exactly nine digits, zero-padded (the nanoseconds of a timestamp). */
  nineDigits(n: number): void {
    const d = this.buf;
    const end = this.pos + 9;
    for (let p = end - 1; p >= this.pos; p--) {
      const q = (n / 10) | 0;
      d[p] = 48 + (n - q * 10);
      n = q;
    }
    this.pos = end;
  }
}
