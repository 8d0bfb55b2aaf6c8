// A GET whose body is large: HTTP/1.1 over a net/tls socket read with `onread` into one reused
// buffer, copied into 1 MiB blocks for the disk. node:http allocates a Buffer per socket read and
// runs each through llhttp and a stream; on loopback that caps a transfer near 450 MB/s where the
// socket itself gives ~1.5 GB/s. Only the status line, headers and body framing (Content-Length,
// chunked, or until close) are handled; anything unusual (redirect, 401, odd framing) is left to
// the node:http path by the caller.
import net from 'node:net';
import tls from 'node:tls';
import { RegistryError, redactUrl } from './errors.js';
import { networkError, type TransportOptions } from './http.js';

/** Largest response head accepted. */
const MAX_HEAD_BYTES = 64 * 1024;
/** Socket read buffer (reused for every read). */
const READ_BYTES = 256 * 1024;
/** Body bytes handed over per block. */
export const BLOCK_BYTES = 1 << 20;
/** Largest chunk-size line of a chunked body. */
const MAX_CHUNK_LINE = 1024;

export interface BulkResponse {
  readonly status: number;
  /** Lower-cased names; repeated headers joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly url: URL;
  /**
   * Delivers the body in blocks (each a Buffer the consumer may keep, or hand back to the transport's
   * BlockPool once nothing reads it). While a returned
   * promise is pending the socket is paused. Resolves at the body's end; rejects on a network
   * failure, a stall or an abort (blocks delivered before stay valid). A consumer returning
   * 'stop' ends it there (the connection is closed).
   */
  pipe(consume: (block: Buffer) => void | Promise<void> | 'stop'): Promise<void>;
  /** Closes the connection (the body is not wanted). */
  close(): void;
}

/**
 * Spare body blocks, handed back by a consumer once it is done with them. Each fresh 1 MiB block is
 * memory outside V8's heap, and a gigabyte of them makes V8 run a full mark-compact every few
 * dozen megabytes; reusing a few dozen keeps a transfer's garbage near zero.
 */
export class BlockPool {
  readonly #spare: ArrayBuffer[] = [];
  readonly #max: number;

  constructor(max: number) {
    this.#max = max;
  }

  take(): Buffer {
    const spare = this.#spare.pop();
    return spare === undefined ? Buffer.allocUnsafeSlow(BLOCK_BYTES) : Buffer.from(spare);
  }

  /** Returns a block (or a view at its start) that nothing reads any more. Other buffers are ignored. */
  give(block: Uint8Array): void {
    const whole = block.buffer;
    if (block.byteOffset !== 0 || whole.byteLength !== BLOCK_BYTES || !(whole instanceof ArrayBuffer)) return;
    if (this.#spare.length < this.#max && !this.#spare.includes(whole)) this.#spare.push(whole);
  }
}

type Framing = { kind: 'length'; remaining: number } | { kind: 'chunked'; state: 'size' | 'data' | 'data-crlf' | 'trailer'; remaining: number; line: string } | { kind: 'close' };

/** Sends `GET url` with `headers` and resolves once the response head arrived. */
export function bulkGet(url: URL, headers: Readonly<Record<string, string>>, transport: TransportOptions & { readonly blocks?: BlockPool }): Promise<BulkResponse> {
  const signal = transport.signal;
  if (signal?.aborted) return Promise.reject(signal.reason);
  const isHttps = url.protocol === 'https:';
  if (!isHttps && url.protocol !== 'http:') return Promise.reject(new RegistryError('ERR_REGISTRY_PROTOCOL', `unsupported URL scheme in ${redactUrl(url)}`));
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = Number(url.port || (isHttps ? 443 : 80));

  return new Promise<BulkResponse>((resolveHead, rejectHead) => {
    const readBuffer = Buffer.allocUnsafe(READ_BYTES);
    let head: Buffer | undefined = Buffer.alloc(0);
    let framing: Framing | undefined;
    let headDone = false;
    let finished = false;
    let failure: unknown;
    let lastActivity = Date.now();
    const newBlock = () => transport.blocks?.take() ?? Buffer.allocUnsafeSlow(BLOCK_BYTES);
    let block = newBlock();
    let blockUsed = 0;
    let consume: ((block: Buffer) => void | Promise<void> | 'stop') | undefined;
    let waiting = 0; // consumer promises pending
    let settleBody: { resolve: () => void; reject: (e: unknown) => void } | undefined;
    const queued: Buffer[] = []; // blocks filled before pipe() was called
    let bodyEnded = false;

    const hand = (full: Buffer) => {
      if (consume === undefined) {
        queued.push(full);
        socket.pause();
        return;
      }
      let result: void | Promise<void> | 'stop';
      try {
        result = consume(full);
      } catch (error) {
        fail(error);
        return;
      }
      if (result === 'stop') {
        bodyEnded = true;
        socket.destroy();
        maybeFinish();
      } else if (result instanceof Promise) {
        waiting++;
        socket.pause();
        result.then(
          () => {
            lastActivity = Date.now();
            if (--waiting === 0 && !finished) socket.resume();
            maybeFinish();
          },
          (error: unknown) => fail(error),
        );
      }
    };
    const flushBlock = () => {
      if (blockUsed === 0 || bodyEnded) return;
      const full = block.subarray(0, blockUsed);
      block = newBlock();
      blockUsed = 0;
      hand(full);
    };
    const deliver = (bytes: Buffer) => {
      let offset = 0;
      while (offset < bytes.length) {
        const n = Math.min(bytes.length - offset, BLOCK_BYTES - blockUsed);
        bytes.copy(block, blockUsed, offset, offset + n);
        blockUsed += n;
        offset += n;
        if (blockUsed === BLOCK_BYTES) flushBlock();
      }
    };
    const maybeFinish = () => {
      if (!bodyEnded || waiting > 0 || finished || consume === undefined) return;
      finished = true;
      cleanup();
      settleBody?.resolve();
    };
    const endBody = () => {
      flushBlock();
      bodyEnded = true;
      socket.destroy();
      maybeFinish();
    };

    const body = (bytes: Buffer) => {
      const f = framing as Framing;
      if (f.kind === 'close') return deliver(bytes);
      if (f.kind === 'length') {
        const take = Math.min(bytes.length, f.remaining);
        deliver(bytes.subarray(0, take));
        f.remaining -= take;
        if (f.remaining === 0) endBody();
        return;
      }
      let i = 0;
      while (i < bytes.length && !bodyEnded) {
        if (f.state === 'data') {
          const take = Math.min(bytes.length - i, f.remaining);
          deliver(bytes.subarray(i, i + take));
          f.remaining -= take;
          i += take;
          if (f.remaining === 0) f.state = 'data-crlf';
          continue;
        }
        // A line: chunk size, the CRLF after data, or trailer lines until an empty one.
        const c = String.fromCharCode(bytes[i++] as number);
        if (c !== '\n') {
          if (c !== '\r') f.line += c;
          if (f.line.length > MAX_CHUNK_LINE) return fail(new RegistryError('ERR_REGISTRY_PROTOCOL', `chunk line too long (${redactUrl(url)})`));
          continue;
        }
        const line = f.line;
        f.line = '';
        if (f.state === 'data-crlf') {
          f.state = 'size';
        } else if (f.state === 'size') {
          const size = parseInt(line.split(';')[0] as string, 16);
          if (!Number.isSafeInteger(size) || size < 0 || !/^[0-9a-fA-F]+/.test(line)) return fail(new RegistryError('ERR_REGISTRY_PROTOCOL', `bad chunk size ${JSON.stringify(line.slice(0, 40))} (${redactUrl(url)})`));
          if (size === 0) f.state = 'trailer';
          else {
            f.state = 'data';
            f.remaining = size;
          }
        } else if (line === '') {
          endBody();
        }
      }
    };

    const parseHead = (text: string): { status: number; headers: Record<string, string> } | undefined => {
      const lines = text.split('\r\n');
      const match = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
      if (match === null) return undefined;
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const colon = line.indexOf(':');
        if (colon <= 0) continue;
        const name = line.slice(0, colon).trim().toLowerCase();
        const value = line.slice(colon + 1).trim();
        headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
      }
      return { status: Number(match[1]), headers };
    };

    const onRead = (n: number, buf: Buffer): boolean => {
      lastActivity = Date.now();
      if (finished) return false;
      let bytes = buf.subarray(0, n);
      if (!headDone) {
        head = Buffer.concat([head as Buffer, bytes]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) {
          if (head.length > MAX_HEAD_BYTES) fail(new RegistryError('ERR_REGISTRY_PROTOCOL', `response head over ${MAX_HEAD_BYTES} bytes (${redactUrl(url)})`));
          return true;
        }
        const parsed = parseHead(head.subarray(0, end).toString('latin1'));
        const rest = head.subarray(end + 4);
        head = undefined;
        headDone = true;
        if (parsed === undefined) {
          fail(new RegistryError('ERR_REGISTRY_PROTOCOL', `not an HTTP/1.1 response (${redactUrl(url)})`));
          return false;
        }
        const te = parsed.headers['transfer-encoding'];
        const length = parsed.headers['content-length'];
        if (te !== undefined) {
          if (te.toLowerCase() !== 'chunked') {
            fail(new RegistryError('ERR_REGISTRY_PROTOCOL', `unsupported Transfer-Encoding ${te} (${redactUrl(url)})`));
            return false;
          }
          framing = { kind: 'chunked', state: 'size', remaining: 0, line: '' };
        } else if (length !== undefined) {
          const remaining = Number(length);
          if (!/^\d+$/.test(length) || !Number.isSafeInteger(remaining)) {
            fail(new RegistryError('ERR_REGISTRY_PROTOCOL', `bad Content-Length ${JSON.stringify(length)} (${redactUrl(url)})`));
            return false;
          }
          framing = { kind: 'length', remaining };
        } else {
          framing = { kind: 'close' };
        }
        resolveHead({
          status: parsed.status,
          headers: parsed.headers,
          url,
          pipe: (consumer) =>
            new Promise<void>((resolve, reject) => {
              if (failure !== undefined) return reject(failure);
              settleBody = { resolve, reject };
              consume = consumer;
              for (const full of queued.splice(0)) hand(full);
              if (!bodyEnded && waiting === 0) socket.resume();
              maybeFinish();
            }),
          close: () => {
            finished = true;
            cleanup();
            socket.destroy();
          },
        });
        if (framing.kind === 'length' && framing.remaining === 0) {
          endBody();
          return false;
        }
        bytes = rest;
        socket.pause(); // until pipe()
      }
      if (bytes.length > 0) body(bytes);
      return !socket.isPaused();
    };

    const connectOptions = { host, port, onread: { buffer: readBuffer, callback: onRead } };
    const socket: net.Socket = isHttps
      ? tls.connect({ ...connectOptions, servername: net.isIP(host) ? undefined : host, rejectUnauthorized: transport.verifyTls, ALPNProtocols: ['http/1.1'] } as tls.ConnectionOptions)
      : net.connect(connectOptions as net.NetConnectOpts);
    socket.setNoDelay(true);

    const fail = (error: unknown) => {
      if (failure !== undefined || finished) return;
      failure = error;
      cleanup();
      socket.destroy();
      if (!headDone) rejectHead(error);
      settleBody?.reject(error);
    };
    const onAbort = () => fail(signal?.reason);
    signal?.addEventListener('abort', onAbort, { once: true });
    const watchdog = setInterval(
      () => {
        // A consumer still writing is not a stalled connection.
        if (waiting === 0 && Date.now() - lastActivity > transport.stallTimeoutMs) {
          fail(new RegistryError('ERR_REGISTRY_STALLED', `no data moved for ${transport.stallTimeoutMs} ms (GET ${redactUrl(url)})`, { url: redactUrl(url) }));
        }
      },
      Math.max(10, Math.min(1000, transport.stallTimeoutMs / 4)),
    );
    watchdog.unref();
    function cleanup() {
      clearInterval(watchdog);
      signal?.removeEventListener('abort', onAbort);
    }

    const path = `${url.pathname}${url.search}`;
    const lines = [`GET ${path} HTTP/1.1`, `Host: ${url.host}`, `User-Agent: ${transport.userAgent}`, 'Accept-Encoding: identity', 'Connection: close'];
    for (const [name, value] of Object.entries(headers)) {
      if (/[\r\n]/.test(name) || /[\r\n]/.test(value)) return fail(new RegistryError('ERR_REGISTRY_PROTOCOL', `header ${name} holds a line break`));
      lines.push(`${name}: ${value}`);
    }
    socket.once(isHttps ? 'secureConnect' : 'connect', () => socket.write(`${lines.join('\r\n')}\r\n\r\n`));
    socket.on('error', (error) => fail(networkError(error, url)));
    socket.on('end', () => {
      if (framing?.kind === 'close' && !bodyEnded) endBody();
    });
    socket.on('close', () => {
      if (!bodyEnded && !finished) fail(networkError(Object.assign(new Error(headDone ? 'response body ended early' : 'connection closed before a response'), { code: 'ERR_STREAM_PREMATURE_CLOSE' }), url));
    });
  });
}
