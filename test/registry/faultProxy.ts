// A loopback HTTP proxy between the client and the registry that injects faults chosen per request:
// answers 5xx without forwarding, drops or truncates response bodies, stalls them, flips a byte in
// them, and does the same to request bodies on their way to the registry. It keeps the Host header,
// so the registry's Location URLs point back through the proxy. Counters say how many body bytes
// went each way, so tests can measure what a resume re-transferred.
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export type Fault =
  | { kind: 'status'; status: number }
  | { kind: 'drop-response'; afterBytes: number }
  | { kind: 'truncate-response'; afterBytes: number }
  | { kind: 'stall-response'; afterBytes: number; ms: number }
  | { kind: 'flip-response'; atByte: number }
  | { kind: 'drop-request'; afterBytes: number }
  | { kind: 'stall-request'; afterBytes: number; ms: number }
  | { kind: 'flip-request'; atByte: number };

export interface ProxyRequest {
  readonly method: string;
  readonly path: string;
  /** 0-based count of requests the proxy has seen. */
  readonly index: number;
  readonly headers: IncomingMessage['headers'];
}

export interface ProxyStats {
  requests: number;
  faults: number;
  /** Response body bytes sent to the client for blob GETs. */
  blobBytesServed: number;
  /** Request body bytes forwarded to the registry (PATCH/PUT/POST bodies). */
  uploadBytesForwarded: number;
  log: string[];
}

export interface FaultProxy {
  readonly origin: string;
  /** `127.0.0.1:<port>`: use it as the model name's host. */
  readonly host: string;
  readonly stats: ProxyStats;
  /** Decides the fault for each request (undefined: pass through). */
  setPlan(plan: (request: ProxyRequest) => Fault | undefined): void;
  resetStats(): void;
  close(): Promise<void>;
}

export interface FaultProxyOptions {
  /** Listen on this port (default: any free one). */
  port?: number;
  /** Requests the proxy answers itself (a token service on the registry's own host); return true when handled. */
  localRoute?: (req: IncomingMessage, res: ServerResponse, origin: string) => boolean;
}

const isBlobGet = (req: IncomingMessage) => req.method === 'GET' && /\/blobs\/sha256:/.test(req.url ?? '');

export async function startFaultProxy(target: string, options: FaultProxyOptions = {}): Promise<FaultProxy> {
  const upstream = new URL(target);
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });
  let plan: (request: ProxyRequest) => Fault | undefined = () => undefined;
  const stats: ProxyStats = { requests: 0, faults: 0, blobBytesServed: 0, uploadBytesForwarded: 0, log: [] };
  let origin = '';

  const server = http.createServer((req, res) => {
    if (options.localRoute?.(req, res, origin)) return;
    const index = stats.requests++;
    const fault = plan({ method: req.method ?? 'GET', path: req.url ?? '/', index, headers: req.headers });
    if (fault !== undefined) {
      stats.faults++;
      stats.log.push(`${index} ${req.method} ${(req.url ?? '').replace(/\?.*/, '')} ${JSON.stringify(fault)}`);
    }
    if (fault?.kind === 'status') {
      req.resume();
      res.writeHead(fault.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ errors: [{ code: 'UNAVAILABLE', message: 'injected fault' }] }));
      return;
    }
    const forward = http.request({
      host: upstream.hostname,
      port: upstream.port,
      method: req.method,
      path: req.url,
      headers: req.headers,
      agent,
    });
    const kill = () => {
      forward.destroy();
      req.socket.destroy();
    };
    forward.on('error', () => req.socket.destroy());

    // Request body -> registry.
    let sent = 0;
    let requestDone = false;
    req.on('data', (chunk: Buffer) => {
      if (requestDone) return;
      let out = chunk;
      if (fault?.kind === 'flip-request' && fault.atByte >= sent && fault.atByte < sent + chunk.length) {
        out = Buffer.from(chunk);
        out[fault.atByte - sent] = (out[fault.atByte - sent] as number) ^ 0x5a;
      }
      if (fault?.kind === 'drop-request' && sent + out.length > fault.afterBytes) {
        const keep = out.subarray(0, Math.max(0, fault.afterBytes - sent));
        stats.uploadBytesForwarded += keep.length;
        requestDone = true;
        forward.write(keep, () => setTimeout(kill, 5));
        return;
      }
      const stallHere = fault?.kind === 'stall-request' && sent <= fault.afterBytes && sent + out.length > fault.afterBytes;
      sent += out.length;
      stats.uploadBytesForwarded += out.length;
      if (!forward.write(out) || stallHere) {
        req.pause();
        const resume = () => req.resume();
        if (stallHere && fault?.kind === 'stall-request') setTimeout(resume, fault.ms);
        else forward.once('drain', resume);
      }
    });
    req.on('end', () => {
      if (!requestDone) forward.end();
    });
    req.on('error', () => forward.destroy());
    res.on('close', () => {
      if (!res.writableFinished) forward.destroy();
    });

    // Registry response -> client.
    forward.on('response', (up) => {
      res.writeHead(up.statusCode ?? 502, up.headers);
      let served = 0;
      let responseDone = false;
      const blob = isBlobGet(req);
      up.on('data', (chunk: Buffer) => {
        if (responseDone) return;
        let out = chunk;
        if (fault?.kind === 'flip-response' && fault.atByte >= served && fault.atByte < served + chunk.length) {
          out = Buffer.from(chunk);
          out[fault.atByte - served] = (out[fault.atByte - served] as number) ^ 0xa5;
        }
        if ((fault?.kind === 'drop-response' || fault?.kind === 'truncate-response') && served + out.length > fault.afterBytes) {
          const keep = out.subarray(0, Math.max(0, fault.afterBytes - served));
          served += keep.length;
          if (blob) stats.blobBytesServed += keep.length;
          responseDone = true;
          up.destroy();
          const cut = () => {
            if (fault.kind === 'drop-response') res.socket?.destroy();
            else res.socket?.end(); // FIN: the body simply stops short of its length
          };
          if (keep.length > 0) res.write(keep, () => setTimeout(cut, 5));
          else cut();
          return;
        }
        const stallHere = fault?.kind === 'stall-response' && served <= fault.afterBytes && served + out.length > fault.afterBytes;
        served += out.length;
        if (blob) stats.blobBytesServed += out.length;
        if (!res.write(out) || stallHere) {
          up.pause();
          const resume = () => up.resume();
          if (stallHere && fault?.kind === 'stall-response') setTimeout(resume, fault.ms);
          else res.once('drain', resume);
        }
      });
      up.on('end', () => {
        if (!responseDone) res.end();
      });
      up.on('error', () => res.socket?.destroy());
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  origin = `http://127.0.0.1:${port}`;
  return {
    origin,
    host: `127.0.0.1:${port}`,
    stats,
    setPlan: (p) => void (plan = p),
    resetStats: () => Object.assign(stats, { requests: 0, faults: 0, blobBytesServed: 0, uploadBytesForwarded: 0, log: [] }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        agent.destroy();
        server.close(() => resolve());
      }),
  };
}

