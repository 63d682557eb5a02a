export * from './codec.js';
export * from './constants.js';
export * from './errors.js';
export * from './framer.js';
export * from './layouts.js';
export * from './pdu.js';
export * from './tlv.js';
