// IPsec in the engine: the four functions of the admin guide, the state of a binding's SA sets,
// the main thread's executor of kernel work, and start-up / shutdown.

export { ipsecCreate, ipsecDestroy, ipsecDestroyByContact, ipsecForward } from './api.js';
export type { CreateSubject, ForwardReply, ForwardRequest, ProtectedTarget } from './api.js';
export { IpsecContext } from './context.js';
export type { IpsecContextOptions } from './context.js';
export { CREATE_DELETE_UNUSED } from './create.js';
export { IpsecError } from './errors.js';
export type { IpsecErrorCode } from './errors.js';
export { commitSet, IpsecExecutor } from './executor.js';
export type { CreateOutcomeSink, IpsecExecutorOptions, IpsecExecutorStats, XfrmSubmitter } from './executor.js';
export { FORWARD_FLAGS, sameWay } from './forward.js';
export { confirmArrival, isProtected, protectedOrigin, securityServerOf, verifyProtectedRegister } from './inbound.js';
export type { ProtectedOrigin, VerifyFailure } from './inbound.js';
export { allowedPairs, startIpsec, stopIpsec } from './lifecycle.js';
export type { IpsecRuntime, IpsecStartOptions } from './lifecycle.js';
export { CREATE_FAILURES, IPSEC_METRICS, IpsecMetrics, XFRM_WHYS } from './metrics.js';
export type { CreateFailure } from './metrics.js';
export { abandon, attach, changeSets, confirm, covers, detach, establish, establishedSet, isTemporary, removeBinding, sendingSet, setsOf } from './sets.js';
export type { SetChange, SetSlot } from './sets.js';
