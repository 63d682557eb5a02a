/** The inbound (MO and receipt) side of the message path: the registry's deliver_sm/data_sm handler. */
export { classifyInbound, type InboundKind } from './classify.js';
export { createInboundHandler, type InboundHandlerDeps, type InboundPath } from './inbound-handler.js';
export { ReassemblySweeper, type ReassemblySweeperDeps } from './reassembly-sweeper.js';
export { type DecodedBody, decodeBody, receivedMessage } from './received-message.js';
export { routeOfBindIn } from './route-of-bind.js';
export { type MoArrival, type MoOutcome, storeMo } from './store-mo.js';
