// Auto mode: trace an app that has no ringtrace line in it.
//   node -r ringtrace/auto app.js            (CommonJS or ES module apps)
//   node --import ringtrace/auto app.mjs     (Node >= 20.6)
//   trace-consume record --auto -- node app.js
// Loading this module subscribes to Node's built-in diagnostics channels
// (nothing is patched) and starts the runtime counters, in whichever thread
// loads it (workers load it too: they inherit NODE_OPTIONS). What is recorded,
// the fields and the options: docs/auto.md.
//
// Tracing never takes the app down: nothing here throws into the app, at load
// or later (a failure is warned once and that part stays off).
import { startAuto } from './start';

export { startAuto, stopAuto } from './start';
export { AUTO_PARTS, parseParts, readOptions, type AutoOptions, type AutoPart } from './options';
export { parseTraceparent, requestPath } from './http-server';
export { CHANNEL_SINCE, channelExists } from './channels';

startAuto();
