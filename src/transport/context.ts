// What the UDP and TCP halves of the transports share: options, the outlet for events and
// failures, the counters, and the remote address cache.

import type { RemoteAddresses } from './addresses.js';
import type { Delivery } from './delivery.js';
import type { TransportOptions } from './options.js';
import type { TransportStats } from './stats.js';

export interface TransportContext {
  readonly opts: TransportOptions;
  readonly delivery: Delivery;
  readonly stats: TransportStats;
  readonly addresses: RemoteAddresses;
}
