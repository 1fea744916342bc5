// A keep-alive client for the server benchmarks that count per request
// (bench:auto, bench:http-callgrind): requests from..from+count-1, GET
// /items/<i>?q=1, 4 in flight on the agent's sockets; or paced, one at a
// time with a pause after each answer, so that the server goes idle between
// requests as under an even rate.
import * as http from 'node:http';

export const keepAliveAgent = (): http.Agent => new http.Agent({ keepAlive: true, maxSockets: 4 });

function one(port: number, i: number, agent: http.Agent): Promise<void> {
  return new Promise((resolve, reject) => {
    http.get({ port, host: '127.0.0.1', path: `/items/${i}?q=1`, agent }, (res) => {
      res.resume();
      res.on('end', resolve);
    }).on('error', reject);
  });
}

/** Requests from..from+count-1 to 127.0.0.1:port, 4 at a time; resolves when all are answered. */
export async function requests(port: number, from: number, count: number, agent: http.Agent): Promise<void> {
  let next = from;
  const end = from + count;
  const worker = async () => {
    while (next < end) await one(port, next++, agent);
  };
  await Promise.all([worker(), worker(), worker(), worker()]);
}

/**
 * The same one at a time, each `gapMs` after the previous answer: every
 * request then wakes an idle server and has its event-loop turn to itself.
 */
export async function pacedRequests(port: number, from: number, count: number, agent: http.Agent,
  gapMs: number): Promise<void> {
  for (let i = from; i < from + count; i++) {
    await one(port, i, agent);
    await new Promise((resolve) => setTimeout(resolve, gapMs));
  }
}
