// The kernel's current clocksource, named with clock figures (doctor, the
// benchmarks): ringtrace's timestamp cost depends on it (docs/design.md, Clock).
import * as fs from 'node:fs';

const CURRENT = '/sys/devices/system/clocksource/clocksource0/current_clocksource';

/** e.g. 'tsc' or 'kvm-clock'; 'unknown' where /sys does not say. */
export function kernelClocksource(): string {
  try {
    return fs.readFileSync(CURRENT, 'utf8').trim();
  } catch {
    return 'unknown';
  }
}
