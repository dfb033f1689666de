/**
 * The native kernel tests' skip rule: the addon is not built, or was built
 * before the kernel under test existed.
 */
import { type AddonLoad, loadNativeAddon, type NativeAddon } from "../../src/kernels/native/addon.js";

/** The addon load and the reason to skip (false: run); `what` names the kernels in the message ("its RoPE kernels"). */
export function nativeAddonFor(kernel: keyof NativeAddon, what: string): { load: AddonLoad; skip: string | false } {
  const load = loadNativeAddon();
  const skip = !load.ok
    ? load.reason
    : typeof load.addon[kernel] !== "function"
      ? `the native addon predates ${what}: npm run build:native`
      : false;
  return { load, skip };
}
