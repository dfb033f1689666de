export { createNativeBackend, type NativeBackend, type NativeBackendOptions } from "./backend.js";
export { loadNativeAddon, type NativeAddon, type AddonLoad } from "./addon.js";
