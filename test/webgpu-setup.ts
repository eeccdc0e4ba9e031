/**
 * The WebGPU tests' start: Dawn pointed at Debian chromium's SwiftShader (a software Vulkan) unless
 * another ICD is chosen, then jax-js's webgpu device. Returns null when it started, else why not
 * (the tests then skip, printing it).
 */
import { existsSync } from 'node:fs';
import { initDevice } from '../src/backend/device.js';

const SWIFTSHADER = '/usr/lib/chromium/vk_swiftshader_icd.json';

export async function startWebgpu(): Promise<string | null> {
  if (!process.env.VK_ICD_FILENAMES && existsSync(SWIFTSHADER)) process.env.VK_ICD_FILENAMES = SWIFTSHADER;
  process.env.XDG_RUNTIME_DIR ??= '/tmp';
  try {
    await initDevice('webgpu');
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}
