export { ConfigError } from './errors.js';
export type { ConfigProblem } from './errors.js';
export { formatConfig } from './format.js';
export { loadConfig } from './load.js';
export type { LoadOptions } from './load.js';
export { selectionPolicyOf } from './selection.js';
export { LOG_LEVELS, ipsecEnabled } from './types.js';
export type { Config, Listener, LogLevel } from './types.js';
