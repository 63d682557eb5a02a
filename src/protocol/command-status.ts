/**
 * command_status codes of SMPP v3.4 and v5.0 (reference §6), as data.
 *
 * retryClass maps the reference's classes to what a sender should do:
 * - `ok`        success (OK)
 * - `retry`     transient: the same PDU may be sent again later with back-off (T)
 * - `permanent` fix the message, do not resend it unchanged (P, A, and R codes 0x65/0x66)
 * - `session`   session or protocol fault: a bug or the wrong bind mode (S)
 * - `bind`      bind or authentication failure: stop, alert, retry slowly (B; ESME_RALYBND too)
 */

export type RetryClass = 'ok' | 'retry' | 'permanent' | 'session' | 'bind';

export interface StatusInfo {
  code: number;
  /** The 3.4 name (or the 5.0 name for codes 3.4 does not have). */
  name: string;
  /** Other names for the same code (5.0 renamed the TLV errors). */
  aliases?: readonly string[];
  description: string;
  retryClass: RetryClass;
}

const TABLE = [
  { code: 0x00000000, name: 'ESME_ROK', description: 'Success', retryClass: 'ok' },
  {
    code: 0x00000001,
    name: 'ESME_RINVMSGLEN',
    description: 'Message length is invalid',
    retryClass: 'permanent',
  },
  {
    code: 0x00000002,
    name: 'ESME_RINVCMDLEN',
    description: 'Command length is invalid',
    retryClass: 'session',
  },
  {
    code: 0x00000003,
    name: 'ESME_RINVCMDID',
    description: 'Invalid or unsupported command id',
    retryClass: 'session',
  },
  {
    code: 0x00000004,
    name: 'ESME_RINVBNDSTS',
    description: 'Command not allowed in the current bind state',
    retryClass: 'session',
  },
  // In a bind_resp (the only place an ESME meets it) 'already bound' means the SMSC still holds a
  // session for these credentials or the account is at its bind limit: nothing a fast retry fixes,
  // so it is a bind failure (stop, alert, retry slowly), like ESME_RBINDFAIL.
  { code: 0x00000005, name: 'ESME_RALYBND', description: 'Already bound', retryClass: 'bind' },
  {
    code: 0x00000006,
    name: 'ESME_RINVPRTFLG',
    description: 'Invalid priority_flag',
    retryClass: 'permanent',
  },
  {
    code: 0x00000007,
    name: 'ESME_RINVREGDLVFLG',
    description: 'Invalid registered_delivery flag',
    retryClass: 'permanent',
  },
  { code: 0x00000008, name: 'ESME_RSYSERR', description: 'SMSC system error', retryClass: 'retry' },
  {
    code: 0x0000000a,
    name: 'ESME_RINVSRCADR',
    description: 'Invalid source address',
    retryClass: 'permanent',
  },
  {
    code: 0x0000000b,
    name: 'ESME_RINVDSTADR',
    description: 'Invalid destination address',
    retryClass: 'permanent',
  },
  { code: 0x0000000c, name: 'ESME_RINVMSGID', description: 'Message id is invalid', retryClass: 'permanent' },
  { code: 0x0000000d, name: 'ESME_RBINDFAIL', description: 'Bind failed', retryClass: 'bind' },
  { code: 0x0000000e, name: 'ESME_RINVPASWD', description: 'Invalid password', retryClass: 'bind' },
  { code: 0x0000000f, name: 'ESME_RINVSYSID', description: 'Invalid system_id', retryClass: 'bind' },
  { code: 0x00000011, name: 'ESME_RCANCELFAIL', description: 'cancel_sm failed', retryClass: 'permanent' },
  { code: 0x00000013, name: 'ESME_RREPLACEFAIL', description: 'replace_sm failed', retryClass: 'permanent' },
  {
    code: 0x00000014,
    name: 'ESME_RMSGQFUL',
    description: 'Message queue full (SMSC-wide or per recipient)',
    retryClass: 'retry',
  },
  { code: 0x00000015, name: 'ESME_RINVSERTYP', description: 'Invalid service_type', retryClass: 'permanent' },
  {
    code: 0x00000033,
    name: 'ESME_RINVNUMDESTS',
    description: 'Invalid number of destinations',
    retryClass: 'permanent',
  },
  {
    code: 0x00000034,
    name: 'ESME_RINVDLNAME',
    description: 'Invalid distribution list name',
    retryClass: 'permanent',
  },
  {
    code: 0x00000040,
    name: 'ESME_RINVDESTFLAG',
    description: 'Invalid dest_flag (submit_multi)',
    retryClass: 'permanent',
  },
  {
    code: 0x00000042,
    name: 'ESME_RINVSUBREP',
    description: "Invalid 'submit with replace' request",
    retryClass: 'permanent',
  },
  { code: 0x00000043, name: 'ESME_RINVESMCLASS', description: 'Invalid esm_class', retryClass: 'permanent' },
  {
    code: 0x00000044,
    name: 'ESME_RCNTSUBDL',
    description: 'Cannot submit to distribution list',
    retryClass: 'permanent',
  },
  {
    code: 0x00000045,
    name: 'ESME_RSUBMITFAIL',
    description: 'submit_sm or submit_multi failed',
    retryClass: 'retry',
  },
  {
    code: 0x00000048,
    name: 'ESME_RINVSRCTON',
    description: 'Invalid source address TON',
    retryClass: 'permanent',
  },
  {
    code: 0x00000049,
    name: 'ESME_RINVSRCNPI',
    description: 'Invalid source address NPI',
    retryClass: 'permanent',
  },
  {
    code: 0x00000050,
    name: 'ESME_RINVDSTTON',
    description: 'Invalid destination address TON',
    retryClass: 'permanent',
  },
  {
    code: 0x00000051,
    name: 'ESME_RINVDSTNPI',
    description: 'Invalid destination address NPI',
    retryClass: 'permanent',
  },
  { code: 0x00000053, name: 'ESME_RINVSYSTYP', description: 'Invalid system_type', retryClass: 'bind' },
  {
    code: 0x00000054,
    name: 'ESME_RINVREPFLAG',
    description: 'Invalid replace_if_present flag',
    retryClass: 'permanent',
  },
  {
    code: 0x00000055,
    name: 'ESME_RINVNUMMSGS',
    description: 'Invalid number of messages',
    retryClass: 'permanent',
  },
  {
    code: 0x00000058,
    name: 'ESME_RTHROTTLED',
    description: 'Throttling error: the ESME exceeded its allowed message rate',
    retryClass: 'retry',
  },
  {
    code: 0x00000061,
    name: 'ESME_RINVSCHED',
    description: 'Invalid scheduled delivery time',
    retryClass: 'permanent',
  },
  {
    code: 0x00000062,
    name: 'ESME_RINVEXPIRY',
    description: 'Invalid message validity period (expiry time)',
    retryClass: 'permanent',
  },
  {
    code: 0x00000063,
    name: 'ESME_RINVDFTMSGID',
    description: 'Predefined message is invalid or not found',
    retryClass: 'permanent',
  },
  {
    code: 0x00000064,
    name: 'ESME_RX_T_APPN',
    description: 'Receiver temporary application error',
    retryClass: 'retry',
  },
  {
    code: 0x00000065,
    name: 'ESME_RX_P_APPN',
    description: 'Receiver permanent application error',
    retryClass: 'permanent',
  },
  {
    code: 0x00000066,
    name: 'ESME_RX_R_APPN',
    description: 'Receiver rejected the message',
    retryClass: 'permanent',
  },
  { code: 0x00000067, name: 'ESME_RQUERYFAIL', description: 'query_sm failed', retryClass: 'permanent' },
  {
    code: 0x000000c0,
    name: 'ESME_RINVOPTPARSTREAM',
    aliases: ['ESME_RINVTLVSTREAM'],
    description: 'Error in the optional parameter (TLV) area',
    retryClass: 'permanent',
  },
  {
    code: 0x000000c1,
    name: 'ESME_ROPTPARNOTALLWD',
    aliases: ['ESME_RTLVNOTALLWD'],
    description: 'Optional parameter (TLV) not allowed in this PDU',
    retryClass: 'permanent',
  },
  {
    code: 0x000000c2,
    name: 'ESME_RINVPARLEN',
    aliases: ['ESME_RINVTLVLEN'],
    description: 'Invalid optional parameter (TLV) length',
    retryClass: 'permanent',
  },
  {
    code: 0x000000c3,
    name: 'ESME_RMISSINGOPTPARAM',
    aliases: ['ESME_RMISSINGTLV'],
    description: 'Expected optional parameter (TLV) missing',
    retryClass: 'permanent',
  },
  {
    code: 0x000000c4,
    name: 'ESME_RINVOPTPARAMVAL',
    aliases: ['ESME_RINVTLVVAL'],
    description: 'Invalid optional parameter (TLV) value',
    retryClass: 'permanent',
  },
  {
    code: 0x000000fe,
    name: 'ESME_RDELIVERYFAILURE',
    description: 'Delivery failure (data_sm transaction mode; see delivery_failure_reason)',
    retryClass: 'permanent',
  },
  { code: 0x000000ff, name: 'ESME_RUNKNOWNERR', description: 'Unknown error', retryClass: 'retry' },
  {
    code: 0x00000100,
    name: 'ESME_RSERTYPUNAUTH',
    description: 'ESME not authorised to use the specified service_type',
    retryClass: 'permanent',
  },
  {
    code: 0x00000101,
    name: 'ESME_RPROHIBITED',
    description: 'ESME prohibited from using the specified operation',
    retryClass: 'permanent',
  },
  {
    code: 0x00000102,
    name: 'ESME_RSERTYPUNAVAIL',
    description: 'Specified service_type is unavailable',
    retryClass: 'retry',
  },
  {
    code: 0x00000103,
    name: 'ESME_RSERTYPDENIED',
    description: 'Specified service_type is denied',
    retryClass: 'permanent',
  },
  {
    code: 0x00000104,
    name: 'ESME_RINVDCS',
    description: 'Invalid data coding scheme',
    retryClass: 'permanent',
  },
  {
    code: 0x00000105,
    name: 'ESME_RINVSRCADDRSUBUNIT',
    description: 'Invalid source address subunit',
    retryClass: 'permanent',
  },
  {
    code: 0x00000106,
    name: 'ESME_RINVDSTADDRSUBUNIT',
    description: 'Invalid destination address subunit',
    retryClass: 'permanent',
  },
  {
    code: 0x00000107,
    name: 'ESME_RINVBCASTFREQINT',
    description: 'Invalid broadcast frequency interval',
    retryClass: 'permanent',
  },
  {
    code: 0x00000108,
    name: 'ESME_RINVBCASTALIAS_NAME',
    description: 'Invalid broadcast alias name',
    retryClass: 'permanent',
  },
  {
    code: 0x00000109,
    name: 'ESME_RINVBCASTAREAFMT',
    description: 'Invalid broadcast area format',
    retryClass: 'permanent',
  },
  {
    code: 0x0000010a,
    name: 'ESME_RINVNUMBCAST_AREAS',
    description: 'Invalid number of broadcast areas',
    retryClass: 'permanent',
  },
  {
    code: 0x0000010b,
    name: 'ESME_RINVBCASTCNTTYPE',
    description: 'Invalid broadcast content type',
    retryClass: 'permanent',
  },
  {
    code: 0x0000010c,
    name: 'ESME_RINVBCASTMSGCLASS',
    description: 'Invalid broadcast message class',
    retryClass: 'permanent',
  },
  { code: 0x0000010d, name: 'ESME_RBCASTFAIL', description: 'broadcast_sm failed', retryClass: 'permanent' },
  {
    code: 0x0000010e,
    name: 'ESME_RBCASTQUERYFAIL',
    description: 'query_broadcast_sm failed',
    retryClass: 'permanent',
  },
  {
    code: 0x0000010f,
    name: 'ESME_RBCASTCANCELFAIL',
    description: 'cancel_broadcast_sm failed',
    retryClass: 'permanent',
  },
  {
    code: 0x00000110,
    name: 'ESME_RINVBCAST_REP',
    description: 'Invalid number of repeated broadcasts',
    retryClass: 'permanent',
  },
  {
    code: 0x00000111,
    name: 'ESME_RINVBCASTSRVGRP',
    description: 'Invalid broadcast service group',
    retryClass: 'permanent',
  },
  {
    code: 0x00000112,
    name: 'ESME_RINVBCASTCHANIND',
    description: 'Invalid broadcast channel indicator',
    retryClass: 'permanent',
  },
] as const satisfies readonly StatusInfo[];

type Row = (typeof TABLE)[number];
type AliasedRow = Extract<Row, { aliases: readonly string[] }>;
type CommandStatusMap = { readonly [R in Row as R['name']]: R['code'] } & {
  readonly [R in AliasedRow as R['aliases'][number]]: R['code'];
};
export type CommandStatusName = keyof CommandStatusMap;

/** Every command_status the 3.4 and 5.0 specs assign, in code order (reference §6). */
export const COMMAND_STATUS_TABLE: readonly StatusInfo[] = TABLE;

/** Name → code, with the 5.0 aliases too: `CommandStatus.ESME_RTHROTTLED === 0x58`. */
export const CommandStatus: CommandStatusMap = Object.freeze(
  Object.fromEntries(
    TABLE.flatMap((row: StatusInfo) => [row.name, ...(row.aliases ?? [])].map((name) => [name, row.code])),
  ),
) as CommandStatusMap;

const byCode = new Map<number, StatusInfo>(TABLE.map((row) => [row.code, row]));

/** Describes a code the specs leave unassigned (reference §6, "Reserved / special ranges"). */
function describeUnassigned(code: number): string {
  if (code >= 0x400 && code <= 0x4ff) return 'SMSC vendor-specific error';
  if (code >= 0x113 && code <= 0x3ff) return 'Reserved for SMPP extensions';
  return 'Reserved';
}

/** A signed or unsigned 32-bit integer as unsigned; undefined for anything else. */
function toUint32(code: number): number | undefined {
  if (!Number.isInteger(code) || code < -0x80000000 || code > 0xffffffff) return undefined;
  return code >>> 0;
}

function hex8(code: number): string {
  return `0x${code.toString(16).toUpperCase().padStart(8, '0')}`;
}

/**
 * What a command_status means. Never throws: unassigned codes get a name like `UNKNOWN_0x00000400`
 * and class `permanent`. Negative values (a signed 32-bit read) are taken as their unsigned form.
 */
export function statusInfo(code: number): StatusInfo {
  const unsigned = toUint32(code);
  if (unsigned === undefined) {
    return {
      code: Number.NaN,
      name: 'UNKNOWN_INVALID',
      description: `Not a 32-bit command_status: ${String(code)}`,
      retryClass: 'permanent',
    };
  }
  const known = byCode.get(unsigned);
  if (known) return known;
  return {
    code: unsigned,
    name: `UNKNOWN_${hex8(unsigned)}`,
    description: describeUnassigned(unsigned),
    retryClass: 'permanent',
  };
}

/** True when the code is one the 3.4 or 5.0 spec assigns. */
export function isKnownStatus(code: number): boolean {
  const unsigned = toUint32(code);
  return unsigned !== undefined && byCode.has(unsigned);
}

export function statusName(code: number): string {
  return statusInfo(code).name;
}

/** True when sending the same PDU again later (with back-off) may succeed. */
export function isRetriable(code: number): boolean {
  return statusInfo(code).retryClass === 'retry';
}
