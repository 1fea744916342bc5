// An OTLP/HTTP endpoint for bench/otlp.ts in a process of its own: takes
// every request, counts requests and bytes, answers 200 without decoding
// (decoding would measure protobufjs, not the sender). Prints its port, then
// its counts on SIGTERM.
import * as http from 'node:http';

let requests = 0;
let bytes = 0;
const server = http.createServer((req, res) => {
  req.on('data', (d: Buffer) => { bytes += d.length; });
  req.on('end', () => {
    requests++;
    res.writeHead(200, { 'content-type': 'application/x-protobuf' });
    res.end();
  });
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${(server.address() as { port: number }).port}\n`));
process.on('SIGTERM', () => {
  process.stdout.write(`${JSON.stringify({ requests, bytes })}\n`);
  process.exit(0);
});
