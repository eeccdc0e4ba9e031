/**
 * Browser stand-ins for the Node built-ins that some riesz modules import (vite.config.ts aliases
 * every `node:*` to this file). The page only reaches code that reads no files, so each stand-in
 * throws, naming itself, if it is ever called.
 */
const unavailable =
  (name: string) =>
  (..._args: unknown[]): never => {
    throw new Error(`${name} is not available in the browser`);
  };

export const existsSync = unavailable('fs.existsSync');
export const mkdirSync = unavailable('fs.mkdirSync');
export const readFileSync = unavailable('fs.readFileSync');
export const closeSync = unavailable('fs.closeSync');
export const fsyncSync = unavailable('fs.fsyncSync');
export const openSync = unavailable('fs.openSync');
export const readSync = unavailable('fs.readSync');
export const renameSync = unavailable('fs.renameSync');
export const rmSync = unavailable('fs.rmSync');
export const statSync = unavailable('fs.statSync');
export const writeSync = unavailable('fs.writeSync');
export const join = unavailable('path.join');
export const dirname = unavailable('path.dirname');
export const basename = unavailable('path.basename');
export const extname = unavailable('path.extname');
export const fileURLToPath = unavailable('url.fileURLToPath');
export const pathToFileURL = unavailable('url.pathToFileURL');
export const gunzipSync = unavailable('zlib.gunzipSync');
export const createRequire = unavailable('module.createRequire');
export const createHash = unavailable('crypto.createHash');
export const randomBytes = unavailable('crypto.randomBytes');
export const availableParallelism = unavailable('os.availableParallelism');
export const parseArgs = unavailable('util.parseArgs');
export class Worker {
  constructor() {
    throw new Error('worker_threads.Worker is not available in the browser');
  }
}
