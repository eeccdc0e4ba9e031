/**
 * jax-js set-up: choose the device training runs on. `wasm` (CPU, WebAssembly) is the default;
 * `webgpu` needs a WebGPU adapter — in browsers natively, in Node through the optional `webgpu` npm
 * package (Dawn), wired in here with the `navigator` shim jax-js expects. Node 20 also lacks
 * `Float16Array`, which jax-js references: a stand-in class is installed when missing.
 */
import { defaultDevice, init } from '@jax-js/jax';
import { RieszError } from '../errors.js';

/** A jax-js device: `wasm` (CPU, WebAssembly; the default), `webgpu`, or jax-js's plain `cpu` one. */
export type DeviceName = 'wasm' | 'webgpu' | 'cpu';
/** Every {@link DeviceName}, in the order messages list them. */
export const DEVICES: readonly DeviceName[] = ['wasm', 'webgpu', 'cpu'];

/** The requested device cannot be started here; the message says why and what to do. */
export class DeviceError extends RieszError {
  constructor(message: string) {
    super('device', message);
  }
}

function installShims(): void {
  const g = globalThis as Record<string, unknown>;
  // jax-js only tests `instanceof Float16Array`; riesz never creates float16 data.
  if (typeof g.Float16Array === 'undefined') g.Float16Array = class Float16Array extends Uint16Array {};
  if (typeof g.navigator === 'undefined') g.navigator = { userAgent: 'Node.js' };
}

async function installNodeWebGpu(): Promise<string | null> {
  const nav = (globalThis as { navigator?: { gpu?: unknown } }).navigator;
  if (nav?.gpu) return null;
  try {
    // A variable specifier keeps bundlers from requiring the optional package.
    const name = 'webgpu';
    const mod = (await import(name)) as { create: (flags: string[]) => unknown; globals: object };
    Object.assign(globalThis, mod.globals);
    (globalThis as Record<string, unknown>).navigator = { gpu: mod.create([]), userAgent: 'Node.js' };
    return null;
  } catch (e) {
    return `the 'webgpu' package (Dawn for Node) could not be loaded: ${(e as Error).message}; install it with 'npm install webgpu'`;
  }
}

/** Without a GPU on Linux, a software Vulkan gives an adapter (slow: for tests, not for speed). */
const SOFTWARE_HINT =
  typeof process !== 'undefined' && process.platform === 'linux'
    ? "; without a GPU, Debian's chromium ships SwiftShader: run with VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json XDG_RUNTIME_DIR=/tmp, and libvulkan1 installed (or LD_LIBRARY_PATH=/usr/lib/chromium)"
    : '';

let current: DeviceName | null = null;

/**
 * Starts jax-js on `device` and makes it the default. Idempotent for the same device.
 * @throws DeviceError when the device is unknown or (webgpu) no adapter is available.
 */
export async function initDevice(device: DeviceName = 'wasm'): Promise<DeviceName> {
  if (!DEVICES.includes(device))
    throw new DeviceError(`unknown device '${device}'; valid devices: ${DEVICES.join(', ')}`);
  installShims();
  if (current === device) return device;
  let why: string | null = null;
  if (device === 'webgpu') why = await installNodeWebGpu();
  const available = await init(device);
  if (!available.includes(device)) {
    throw new DeviceError(
      `--device ${device} was asked for, but ${why ?? `no WebGPU adapter was found (no GPU, or no Vulkan/Metal/D3D driver${SOFTWARE_HINT})`}; ` +
        `available here: ${available.join(', ')} (use --device wasm)`,
    );
  }
  defaultDevice(device);
  current = device;
  return device;
}
