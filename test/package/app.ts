// A TypeScript app compiled against the installed package's .d.ts files
// (test/package/check.sh): the public types resolve and still check arguments.
import { provider, Session, type FieldType, type DecodedEvent } from 'ringtrace';

const field: FieldType = 'u32';
const tick = provider('pkgcheck').event('tick', ['n:u32', 'from:string']);
tick.emit(1, 'typescript');
// @ts-expect-error: the schema types the arguments (n is a number)
tick.emit('1', 'typescript');
const span = provider('pkgcheck').spanType('work', ['items:u16']);
span.start(3).end();
export function describe(e: DecodedEvent, s: Session | undefined): string {
  return `${field} ${e.cls.provider}:${e.cls.name} pid ${e.pid} ${s ? "live" : ""}`;
}
