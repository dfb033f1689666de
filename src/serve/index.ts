/** `rrhf serve`: an OpenAI-compatible HTTP server over one model. */
export { startServer, isLoopbackHost, type RunningServer, type ServerOptions } from "./server.js";
export { SERVE_SETTINGS, type ServeSettings } from "./settings.js";
export { ApiError } from "./request.js";
