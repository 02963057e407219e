export { ConfigError } from './errors.js';
export type { ConfigProblem } from './errors.js';
export { formatConfig } from './format.js';
export { loadConfig } from './load.js';
export type { LoadOptions } from './load.js';
export { selectionPolicyOf } from './selection.js';
export { LISTENER_SIDES, LOG_LEVELS, ipsecEnabled } from './types.js';
export type { Config, Listener, ListenerSide, LogLevel } from './types.js';
