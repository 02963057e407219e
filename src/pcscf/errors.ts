// Failures of setting up the P-CSCF logic (new PcscfContext). Deciding on a message never
// throws: its failures are Rejections, drops, or a 500 for a bug (decide.ts).

export type PcscfErrorCode =
  | 'PCSCF_BAD_NEXT_HOP' // sip.next_hop is not an IP-literal SIP URI
  | 'PCSCF_NO_CORE_SOCKET'; // no unprotected socket of the next hop's transport and family

export class PcscfError extends Error {
  override readonly name = 'PcscfError';
  constructor(readonly code: PcscfErrorCode, message: string) {
    super(message);
  }
}
