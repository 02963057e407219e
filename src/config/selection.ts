import type { SelectionPolicy } from '../secagree/select.js';
import type { Config } from './types.js';

/** The Sec-Agree selection policy the configuration describes. */
export function selectionPolicyOf(c: Config): SelectionPolicy {
  const policy: SelectionPolicy = {
    allowedAuth: c.security.allowed_algorithms,
    allowedEnc: c.security.allowed_encryption,
    disableDeprecated: c.security.disable_deprecated_algorithms,
  };
  if (c.ipsec_preferred_alg !== '') policy.preferredAlg = c.ipsec_preferred_alg;
  if (c.ipsec_preferred_ealg !== '') policy.preferredEalg = c.ipsec_preferred_ealg;
  return policy;
}
