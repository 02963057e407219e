// Typed failures of the IPsec engine API (src/ipsec/api.ts) and of its start-up. Deciding on a
// message never throws these for bad input: a UE's malformed or forged headers become rejections;
// these are for callers that use the API wrongly and for a kernel that cannot do IPsec.

export type IpsecErrorCode =
  | 'IPSEC_UNKNOWN_DOMAIN' // a domain other than the contact table's (contacts.domain)
  | 'IPSEC_BAD_FLAGS' // flags that are not a non-negative integer
  | 'IPSEC_DISABLED' // an IPsec function called while ipsec_listen_addr and ipsec_listen_addr6 are ""
  | 'IPSEC_KERNEL_UNSUPPORTED' // start-up: the kernel cannot create the ESP SAs IPsec needs
  | 'IPSEC_NETLINK_FAILED'; // start-up: the netlink worker could not start or clean up

export class IpsecError extends Error {
  override readonly name = 'IpsecError';
  constructor(readonly code: IpsecErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
