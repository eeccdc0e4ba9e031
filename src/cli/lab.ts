/**
 * `riesz lab [--port P] [--host H]` — serves the riesz lab, the browser page built by Vite into
 * dist/web (web/ in the repository), from a small static server. Every response carries the
 * cross-origin-isolation headers (COOP/COEP): without them the page gets no SharedArrayBuffer, and
 * riesz's WebAssembly kernels, whose memory is shared, fall back to plain TypeScript.
 */
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RieszError, UsageError } from '../errors.js';
import { describeOptions, numberOption, type OptionSpec, parseArgs } from './args.js';

export const labOptions: Record<string, OptionSpec> = {
  port: { type: 'string', value: 'P', help: 'port to listen on (default 4173; 0 picks a free one)' },
  host: { type: 'string', value: 'H', help: 'address to listen on (default 127.0.0.1; 0.0.0.0 for all)' },
  debug: { type: 'boolean', help: 'show stack traces on errors' },
  help: { type: 'boolean', help: 'show this help' },
};

export const labHelp = `usage: riesz lab [--port P] [--host H]

Serves the riesz lab, a page that draws what the Frobenius-type and operator norms mean, races
optimizers on small tasks in the browser (jax-js on WebGPU when the browser has it, else Wasm) and
shows singular values before and after Muon, Pion and spectral normalisation. Ctrl-C stops it.

options:
${describeOptions(labOptions)}`;

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json',
  '.wasm': 'application/wasm',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.bin': 'application/octet-stream',
};

/** The headers that make the page cross-origin isolated (SharedArrayBuffer, shared Wasm memory). */
export const ISOLATION_HEADERS: Record<string, string> = {
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Embedder-Policy': 'require-corp',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

/** A running lab server: its address and a way to stop it. */
export interface LabServer {
  /** `http://localhost:P/` (or the host given, when it is not a loopback or wildcard address). */
  url: string;
  port: number;
  close(): Promise<void>;
}

/** Options of {@link startLab}. */
export interface LabOptions {
  port?: number;
  host?: string;
  /** The built page's folder (default: dist/web beside this module's dist/cli). */
  root?: string;
}

/** dist/web, as seen from dist/cli/lab.js. */
function defaultRoot(): string {
  return fileURLToPath(new URL('../web/', import.meta.url));
}

/** The file under `root` that a request path names, or null when it would leave `root`. */
function fileFor(root: string, urlPath: string): string | null {
  let path: string;
  try {
    path = decodeURIComponent(urlPath.split('?')[0]);
  } catch {
    return null;
  }
  if (path.endsWith('/')) path += 'index.html';
  const file = resolve(root, `.${normalize(path)}`);
  return file === root || file.startsWith(root.endsWith(sep) ? root : root + sep) ? file : null;
}

/**
 * Starts the static server of the built lab page.
 * @throws RieszError when the page has not been built (no index.html under `root`).
 * @example const lab = await startLab({ port: 0 }); console.log(lab.url); await lab.close();
 */
export async function startLab({
  port = 4173,
  host = '127.0.0.1',
  root,
}: LabOptions = {}): Promise<LabServer> {
  const dir = resolve(root ?? defaultRoot());
  if (!existsSync(join(dir, 'index.html')))
    throw new RieszError(
      'lab',
      `the lab page is not built (no ${join(dir, 'index.html')}): run 'npm run build'`,
    );
  const server: Server = createServer(async (req, res) => {
    const file = fileFor(dir, req.url ?? '/');
    const send = (code: number, body: string | Buffer, type = 'text/plain; charset=utf-8') => {
      res.writeHead(code, { 'Content-Type': type, 'Cache-Control': 'no-cache', ...ISOLATION_HEADERS });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return send(405, 'method not allowed');
    if (!file) return send(403, 'forbidden');
    try {
      if (!(await stat(file)).isFile()) return send(404, 'not found');
      send(200, await readFile(file), TYPES[extname(file)] ?? 'application/octet-stream');
    } catch {
      send(404, 'not found');
    }
  });
  await new Promise<void>((ok, fail) => {
    server.once('error', (e: NodeJS.ErrnoException) =>
      fail(
        e.code === 'EADDRINUSE'
          ? new UsageError(`port ${port} is in use on ${host}; pick another with --port`)
          : new RieszError('lab', `cannot listen on ${host}:${port}: ${e.message}`),
      ),
    );
    server.listen(port, host, ok);
  });
  const bound = (server.address() as AddressInfo).port;
  const local = ['127.0.0.1', '::1', '0.0.0.0', '::', 'localhost'].includes(host);
  return {
    url: `http://${local ? 'localhost' : host}:${bound}/`,
    port: bound,
    close: () =>
      new Promise<void>((ok) => {
        server.close(() => ok());
        server.closeAllConnections(); // a browser's keep-alive sockets would hold close() open
      }),
  };
}

/** `riesz lab`: serves the page until SIGINT or SIGTERM. */
export async function runLab(argv: string[], print: (s: string) => void): Promise<number> {
  const { options, positionals } = parseArgs(argv, labOptions, 'lab');
  if (options.help) {
    print(labHelp);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`lab takes no operands, got '${positionals[0]}'`);
  const port = numberOption(options.port, 'port', 4173);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new UsageError(`option '--port' needs an integer in 0..65535, got '${options.port}'`);
  const host = typeof options.host === 'string' ? options.host : '127.0.0.1';
  const lab = await startLab({ port, host });
  print(lab.url);
  await new Promise<void>((done) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      done();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  await lab.close();
  return 0;
}
