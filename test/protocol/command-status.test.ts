import { describe, expect, it } from 'vitest';
import {
  COMMAND_STATUS_TABLE,
  CommandStatus,
  isKnownStatus,
  isRetriable,
  statusInfo,
  statusName,
} from '../../src/protocol/command-status.js';

// The codes of reference §6, written out independently of the implementation's table.
const SPEC_CODES = [
  0x00, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x11, 0x13, 0x14,
  0x15, 0x33, 0x34, 0x40, 0x42, 0x43, 0x44, 0x45, 0x48, 0x49, 0x50, 0x51, 0x53, 0x54, 0x55, 0x58, 0x61, 0x62,
  0x63, 0x64, 0x65, 0x66, 0x67, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xfe, 0xff, 0x100, 0x101, 0x102, 0x103, 0x104,
  0x105, 0x106, 0x107, 0x108, 0x109, 0x10a, 0x10b, 0x10c, 0x10d, 0x10e, 0x10f, 0x110, 0x111, 0x112,
];

describe('command_status table', () => {
  it('holds exactly the 3.4 and 5.0 codes of the reference, in code order', () => {
    expect(COMMAND_STATUS_TABLE.map((s) => s.code)).toEqual(SPEC_CODES);
  });

  it('gives every code a unique ESME_ name, a description and a retry class', () => {
    const names = new Set<string>();
    for (const s of COMMAND_STATUS_TABLE) {
      expect(s.name).toMatch(/^ESME_R[A-Z_]+$/);
      expect(s.description.length).toBeGreaterThan(3);
      expect(['ok', 'retry', 'permanent', 'session', 'bind']).toContain(s.retryClass);
      for (const n of [s.name, ...(s.aliases ?? [])]) {
        expect(names.has(n)).toBe(false);
        names.add(n);
      }
      expect(statusInfo(s.code)).toBe(s);
      expect(statusName(s.code)).toBe(s.name);
    }
  });

  it('maps names to codes with CommandStatus, including the 5.0 TLV aliases', () => {
    expect(CommandStatus.ESME_ROK).toBe(0);
    expect(CommandStatus.ESME_RTHROTTLED).toBe(0x58);
    expect(CommandStatus.ESME_RINVDSTADR).toBe(0x0b);
    expect(CommandStatus.ESME_RINVBCASTCHANIND).toBe(0x112);
    expect(CommandStatus.ESME_RINVTLVSTREAM).toBe(CommandStatus.ESME_RINVOPTPARSTREAM);
    expect(CommandStatus.ESME_RTLVNOTALLWD).toBe(0xc1);
    expect(CommandStatus.ESME_RINVTLVLEN).toBe(0xc2);
    expect(CommandStatus.ESME_RMISSINGTLV).toBe(0xc3);
    expect(CommandStatus.ESME_RINVTLVVAL).toBe(0xc4);
    expect(statusInfo(CommandStatus.ESME_RINVTLVVAL).aliases).toEqual(['ESME_RINVTLVVAL']);
    expect(statusName(0xc0)).toBe('ESME_RINVOPTPARSTREAM');
    // Every key of CommandStatus is a name or alias of the row with that code.
    for (const [name, code] of Object.entries(CommandStatus)) {
      const info = statusInfo(code);
      expect([info.name, ...(info.aliases ?? [])]).toContain(name);
    }
    expect(Object.isFrozen(CommandStatus)).toBe(true);
  });

  it('classifies codes the way the reference recommends retrying them', () => {
    const cls = (code: number) => statusInfo(code).retryClass;
    expect(cls(0x00)).toBe('ok');
    // T-class: back off and resend.
    for (const code of [0x08, 0x14, 0x45, 0x58, 0x64, 0xff, 0x102]) expect(cls(code)).toBe('retry');
    // Fix the message: P, A and the rejecting R codes.
    for (const code of [0x01, 0x0a, 0x0b, 0x0c, 0x11, 0x61, 0x65, 0x66, 0x67, 0xc0, 0xfe, 0x104, 0x10d]) {
      expect(cls(code)).toBe('permanent');
    }
    for (const code of [0x02, 0x03, 0x04]) expect(cls(code)).toBe('session');
    // ESME_RALYBND: the SMSC holds a session for these credentials; retried slowly, like a bind failure.
    for (const code of [0x05, 0x0d, 0x0e, 0x0f, 0x53]) expect(cls(code)).toBe('bind');
  });

  it('says only transient codes are retriable', () => {
    expect(isRetriable(CommandStatus.ESME_RTHROTTLED)).toBe(true);
    expect(isRetriable(CommandStatus.ESME_RMSGQFUL)).toBe(true);
    expect(isRetriable(CommandStatus.ESME_RSYSERR)).toBe(true);
    expect(isRetriable(CommandStatus.ESME_RX_T_APPN)).toBe(true);
    expect(isRetriable(CommandStatus.ESME_ROK)).toBe(false);
    expect(isRetriable(CommandStatus.ESME_RINVDSTADR)).toBe(false);
    expect(isRetriable(CommandStatus.ESME_RINVPASWD)).toBe(false);
    expect(isRetriable(CommandStatus.ESME_RX_R_APPN)).toBe(false);
    expect(isRetriable(0x40b)).toBe(false);
  });
});

describe('codes outside the table', () => {
  it('names a vendor-specific code and treats it as permanent', () => {
    expect(statusInfo(0x400)).toEqual({
      code: 0x400,
      name: 'UNKNOWN_0x00000400',
      description: 'SMSC vendor-specific error',
      retryClass: 'permanent',
    });
    expect(statusInfo(0x4ff).description).toBe('SMSC vendor-specific error');
    expect(statusName(0x40b)).toBe('UNKNOWN_0x0000040B');
    expect(isKnownStatus(0x40b)).toBe(false);
  });

  it('describes the reserved ranges as reserved', () => {
    expect(statusInfo(0x09).description).toBe('Reserved');
    expect(statusInfo(0x16).description).toBe('Reserved');
    expect(statusInfo(0xc5).description).toBe('Reserved');
    expect(statusInfo(0x113).description).toBe('Reserved for SMPP extensions');
    expect(statusInfo(0x3ff).description).toBe('Reserved for SMPP extensions');
    expect(statusInfo(0x500).description).toBe('Reserved');
    expect(statusInfo(0xffffffff).name).toBe('UNKNOWN_0xFFFFFFFF');
    for (const code of [0x09, 0x113, 0x500]) expect(statusInfo(code).retryClass).toBe('permanent');
  });

  it('reads a signed 32-bit value as its unsigned code', () => {
    expect(statusName(-1)).toBe('UNKNOWN_0xFFFFFFFF');
    expect(statusInfo(0x80000000 | 0).name).toBe('UNKNOWN_0x80000000');
    expect(statusInfo(0x80000000 | 0).code).toBe(0x80000000);
  });

  it('never throws on values that are not 32-bit integers', () => {
    for (const bad of [Number.NaN, 1.5, Number.POSITIVE_INFINITY, 2 ** 40, -(2 ** 40)]) {
      const info = statusInfo(bad);
      expect(info.name).toBe('UNKNOWN_INVALID');
      expect(info.retryClass).toBe('permanent');
      expect(isRetriable(bad)).toBe(false);
      expect(isKnownStatus(bad)).toBe(false);
    }
  });
});
