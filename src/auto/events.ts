// Auto mode: events for sockets, child processes and worker threads, from
// Node's net, child_process and worker_threads channels. A child process or
// worker running Node is traced by itself: it inherits the environment
// (RINGTRACE_SESSION, and NODE_OPTIONS with auto mode's -r).
import type { ChildProcess } from 'node:child_process';
import type { Socket } from 'node:net';
import type { Worker } from 'node:worker_threads';
import { provider } from '../provider';
import type { AutoOptions } from './options';
import { subscribe } from './channels';
import { madeOnce } from './classes';

export function traceNet(_options: AutoOptions, failed: (e: unknown) => void): void {
  // A client socket is published as it starts connecting: its remote end may not be known yet ('' and 0).
  const fields = ['remote_address:string', 'remote_port:u16'] as const;
  const { client, server } = madeOnce('net', () => ({
    client: provider('node.net').event('client_socket', fields),
    server: provider('node.net').event('server_socket', fields),
  }));
  const record = (event: typeof client, socket: Socket) => {
    if (event.enabled) event.emit(socket.remoteAddress ?? '', socket.remotePort ?? 0);
  };
  subscribe<{ socket: Socket }>('net.client.socket', ({ socket }) => record(client, socket), failed);
  subscribe<{ socket: Socket }>('net.server.socket', ({ socket }) => record(server, socket), failed);
}

export function traceChildProcesses(_options: AutoOptions, failed: (e: unknown) => void): void {
  // Only the file run, never its arguments (they may hold secrets); child_pid -1 if it could not start.
  const spawned = madeOnce('child', () => provider('node.process').event('child', ['child_pid:i32', 'file:string']));
  // Published as the ChildProcess is made, before it spawns: its pid and file are read a microtask later.
  subscribe<{ process: ChildProcess }>('child_process', ({ process: child }) => {
    if (!spawned.enabled) return;
    queueMicrotask(() => {
      try {
        spawned.emit(child.pid ?? -1, child.spawnfile ?? '');
      } catch (e) {
        failed(e);
      }
    });
  }, failed);
}

export function traceWorkers(_options: AutoOptions, failed: (e: unknown) => void): void {
  const started = madeOnce('worker', () => provider('node.process').event('worker', ['thread_id:i32']));
  subscribe<{ worker: Worker }>('worker_threads', ({ worker }) => {
    if (started.enabled) started.emit(worker.threadId);
  }, failed);
}
