/** Node-only extras (entry `riesz/node`): worker threads for the WebAssembly kernels. */
export { disableThreads, enableThreads } from './backend/threads.js';
